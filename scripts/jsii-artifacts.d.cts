/** Types of scripts/jsii-artifacts.cjs for the TypeScript that imports it (test/jsii). */
export interface StepResult {
  /** The exit status; null when the step did not run (jsii failed before it). */
  readonly status: number | null;
  /** stdout and stderr. */
  readonly output: string;
}
export interface JsiiArtifacts {
  /** The hash of the inputs the steps read (see inputsHash). */
  readonly inputs: string;
  /** The scratch package the steps ran in, relative to the output directory. */
  readonly work: string;
  readonly jsii: StepResult;
  readonly pacmak: StepResult;
  readonly docgen: StepResult;
}
export declare const TARGETS: string[];
export declare function inputsHash(root: string): string;
export declare function buildJsiiArtifacts(root: string, out: string): Promise<JsiiArtifacts>;
export declare function currentJsiiArtifacts(root: string, out: string): JsiiArtifacts | undefined;
