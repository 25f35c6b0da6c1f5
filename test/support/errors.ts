import { expect } from 'vitest';
import { InvalidValueError } from '../../shared/runner/errors.js';

/** The InvalidValueError that `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): InvalidValueError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidValueError);
    return error as InvalidValueError;
  }
  throw new Error('expected an InvalidValueError, nothing was thrown');
}
