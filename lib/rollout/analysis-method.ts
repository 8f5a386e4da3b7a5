/** How the judge's metric analysis decides whether the new color is worse than the stable color. */
export enum AnalysisMethod {
  /**
   * Anytime-valid sequential tests over each step's accumulated data (likelihood ratios of the new color's 5xx and
   * p99 against the stable color's and against the absolute limits): the chance of rolling back a healthy release is
   * bounded by `falseRollbackRatePercent` however many judgements look, and it fails as soon as the evidence is strong.
   */
  SEQUENTIAL = 'SEQUENTIAL',
  /**
   * The fixed thresholds on each judge interval's counts alone (the judge before sequential testing): simple, but at
   * moderate traffic a handful of errors decides, so healthy releases roll back far more often than 1%.
   */
  THRESHOLDS = 'THRESHOLDS',
}
