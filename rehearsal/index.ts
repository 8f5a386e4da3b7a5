// The rehearsal's generic engine: run a synthesized state machine locally on a virtual clock.
export * from './virtual-clock';
export * from './asl';
export * from './template';
export * from './resources';
export * from './retry';
export * from './definition';
export * from './runner';
export * from './handlers';
export * from './dynamodb-integration';
