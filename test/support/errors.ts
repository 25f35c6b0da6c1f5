import { expect } from 'vitest';
import { InvalidValueError } from '../../shared/core/errors.js';

/** The error `fn` throws, checked to be of `type` (InvalidValueError by default); fails the test otherwise. */
export function errorOf<E extends Error = InvalidValueError>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E = InvalidValueError as unknown as abstract new (
    ...args: never[]
  ) => E,
): E {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}
