/** A color of a blue/green pair: the two environments a release alternates between. */
export enum Color {
  /** The blue environment. */
  BLUE = 'blue',
  /** The green environment. */
  GREEN = 'green',
}
