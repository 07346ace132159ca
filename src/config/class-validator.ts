import type * as ClassValidator from 'class-validator';
import { createRequire } from 'node:module';

/**
 * The parts of class-validator the settings use, each loaded from its own file. The package's index
 * loads every one of its ~100 decorators, and libphonenumber-js and validator.js behind them:
 * ~3.5 MB of heap, kept for the life of the process, to validate the settings once at boot. These
 * are the very files the index re-exports (`class-validator.spec.ts` checks each against it, so an
 * upgrade that moves one fails the tests, not the service).
 */
type Api = typeof ClassValidator;
const load = createRequire(import.meta.url);

function part<K extends keyof Api>(file: string, name: K): Api[K] {
  return (load(`class-validator/cjs/${file}.js`) as Pick<Api, K>)[name];
}

export const IsBoolean = part('decorator/typechecker/IsBoolean', 'IsBoolean');
export const IsInt = part('decorator/typechecker/IsInt', 'IsInt');
export const IsString = part('decorator/typechecker/IsString', 'IsString');
export const IsIn = part('decorator/common/IsIn', 'IsIn');
export const IsOptional = part('decorator/common/IsOptional', 'IsOptional');
export const ValidateIf = part('decorator/common/ValidateIf', 'ValidateIf');
export const Matches = part('decorator/string/Matches', 'Matches');
export const MaxLength = part('decorator/string/MaxLength', 'MaxLength');
export const MinLength = part('decorator/string/MinLength', 'MinLength');
export const Max = part('decorator/number/Max', 'Max');
export const Min = part('decorator/number/Min', 'Min');
export const registerDecorator = part('register-decorator', 'registerDecorator');
export const getMetadataStorage = part('metadata/MetadataStorage', 'getMetadataStorage');
export const getFromContainer = part('container', 'getFromContainer');

const { Validator } = load('class-validator/cjs/validation/Validator.js') as Pick<Api, 'Validator'>;

/** class-validator's `validateSync(object, options)`, as its index defines it. */
export function validateSync(
  object: object,
  options?: ClassValidator.ValidatorOptions,
): ClassValidator.ValidationError[] {
  return getFromContainer(Validator).validateSync(object, options);
}
