export * from '../lambda/shared/contracts';
