/** What an INCONCLUSIVE judgement (too little traffic on the new color to decide) does. */
export enum InconclusiveAction {
  /** Roll back: no data is no proof of health. */
  ROLLBACK = 'ROLLBACK',
  /** Count the judgement as healthy (for services whose quiet hours are expected). */
  PROCEED = 'PROCEED',
  /** Wait for an operator: promote continues, abort rolls back. */
  PAUSE = 'PAUSE',
}
