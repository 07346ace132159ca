import { Transform } from 'class-transformer';
import type { ValidationArguments } from 'class-validator';
import { registerDecorator } from './class-validator.js';
import { parseCidr, splitList } from '../common/cidr.js';

/** Update kinds are snake_case words; unknown kinds are allowed (Telegram adds new ones several times a year). */
const UPDATE_TYPE_PATTERN = /^[a-z][a-z_]*$/;

function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

function validator(
  name: string,
  validate: (value: unknown) => boolean,
  message: (args: ValidationArguments) => string,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      validator: { validate, defaultMessage: message },
    });
}

/** A comma-separated list of IPv4/IPv6 CIDRs (or bare addresses), parsed once into `Cidr` objects. */
export function IsCidrList(setting: string): PropertyDecorator {
  return compose(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? splitList(value).map(parseCidr) : value,
    ),
    validator(
      'isCidrList',
      (value) => Array.isArray(value) && value.every((entry) => typeof entry === 'object'),
      ({ value }) => {
        const problems = Array.isArray(value) ? value.filter((entry) => typeof entry === 'string') : [];
        return `${setting} must be a comma-separated list of CIDRs such as 149.154.160.0/20: ${problems.join('; ')}`;
      },
    ),
  );
}

/** A comma-separated list of update kinds such as `message,callback_query`. */
export function IsUpdateTypeList(setting: string): PropertyDecorator {
  return compose(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? splitList(value) : value)),
    validator(
      'isUpdateTypeList',
      (value) =>
        Array.isArray(value) &&
        value.every((entry) => typeof entry === 'string' && UPDATE_TYPE_PATTERN.test(entry)),
      () => `${setting} must be a comma-separated list of update kinds such as message,callback_query`,
    ),
  );
}

/** A URL with one of the given schemes. The value is never echoed: URLs may carry passwords. */
export function IsUrlWithScheme(schemes: readonly string[]): PropertyDecorator {
  return validator(
    'isUrlWithScheme',
    (value) => {
      if (typeof value !== 'string') return false;
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    ({ property }) => `${property} must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`,
  );
}
