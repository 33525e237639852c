// The one way a family reads its options. Each family declares its options
// once, as an object of defaults: the keys are the names `createModel` (and
// the model's constructor) accept, the values' types are the options' types
// (`OptionsOf`), so the accepted names cannot drift from the type.
import { nearestName } from './nearest-name.js';

/** The options a declaration accepts, each optional. */
export type OptionsOf<D> = { -readonly [K in keyof D]?: D[K] };

/**
 * A placeholder default for an option whose value each preset gives (every
 * preset sets it, so the declaration only needs its type).
 */
export function presetValue<T>(): T {
  return undefined as T;
}

/** The names a declaration accepts, whatever their types (what the registry keeps for each model). */
export interface DeclaredOptions {
  /** Named in errors when no context is given (e.g. 'VisionTransformer'). */
  readonly owner: string;
  /** The accepted names, in declaration order. */
  readonly names: readonly string[];
  /**
   * Throws on any name the declaration does not hold; the error names the
   * option, suggests the nearest real one and lists them all.
   */
  check(options: object | undefined, context?: string): void;
}

export interface OptionDeclaration<D extends object> extends DeclaredOptions {
  readonly defaults: Readonly<D>;
  readonly names: readonly (keyof D & string)[];
  /** The options whose value is not `undefined` (`undefined` always means "the default"), names checked. */
  defined(options: object | undefined, context?: string): OptionsOf<D>;
  /**
   * The defaults overlaid by `layers` in order (a preset's values, then the
   * caller's): a later layer wins, an `undefined` value keeps what lies below.
   */
  resolve(layers: readonly (object | undefined)[], context?: string): D;
}

export function declareOptions<D extends object>(owner: string, defaults: D): OptionDeclaration<D> {
  const names = Object.freeze(Object.keys(defaults)) as readonly (keyof D & string)[];
  const accepted = new Set<string>(names);
  const check = (options: object | undefined, context = owner): void => {
    const unknown = Object.keys(options ?? {}).filter((k) => !accepted.has(k));
    if (unknown.length === 0) return;
    const each = unknown.map((k) => {
      const near = nearestName(k, names);
      return `'${k}'${near ? ` (did you mean '${near}'?)` : ''}`;
    });
    throw new Error(`${context}: unknown option${unknown.length > 1 ? 's' : ''} ${each.join(', ')}; accepted: ${names.join(', ')}`);
  };
  const defined = (options: object | undefined, context = owner): OptionsOf<D> => {
    check(options, context);
    return Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) as OptionsOf<D>;
  };
  return Object.freeze({
    owner,
    defaults: Object.freeze({ ...defaults }),
    names,
    check,
    defined,
    resolve: (layers: readonly (object | undefined)[], context = owner): D =>
      Object.assign({}, defaults, ...layers.map((layer) => defined(layer, context))) as D,
  });
}
