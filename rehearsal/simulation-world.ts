/**
 * The world a scenario sets up and a rehearsal runs in: the fakes, the deployed stacks, the rollout's configuration.
 * Its own module so that scenarios (rehearsal/scenarios.ts) and the simulation (rehearsal/simulation.ts) both use it
 * without importing each other.
 */
import type { Color, JudgeConfig, RouterConfig } from '../lambda/shared/contracts';
import type { Deployer, DeployedLiveRoute, StackTemplate } from './deployer';
import type { AwsFakes } from './fakes';
import type { ScheduledClock } from './simulation-clock';

/**
 * Roles, not colors: `stable` is the color that carries production traffic when the rollout starts, `release`
 * the color being rolled out.
 */
export type Role = 'stable' | 'release';

/** What scenario hooks and tests can reach in a running world. */
export interface SimulationWorld {
  /**
   * The world's virtual time. Its sleeps and its `advance` / `advanceTo` stop at every scheduled action (an operator's
   * command, a second rollout...) and run it at its instant; the VirtualClock under it is not exposed, because moving
   * that one directly would skip them.
   */
  readonly clock: ScheduledClock;
  readonly aws: AwsFakes;
  readonly deployer: Deployer;
  readonly stacks: readonly StackTemplate[];
  readonly stackName: string;
  readonly routerConfig: RouterConfig;
  readonly judgeConfig: JudgeConfig;
  readonly liveRoute: DeployedLiveRoute;
  readonly tableName: string;
  readonly service: string;
  readonly colors: Record<Role, Color>;
}
