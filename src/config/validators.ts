import { Transform } from 'class-transformer';
import type { ValidationArguments } from 'class-validator';
import { registerDecorator } from './class-validator.js';
import { parseCidr, splitList } from '../common/cidr.js';
import { KIND_PATTERN } from '../common/update-kinds.js';
import { parseHostPort } from './host-port.js';
import { MAX_KINDS_PER_LIST, MAX_PATH_LENGTH, tooLong } from './limits.js';

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

/** A list setting's raw text is split only when it is within MAX_PATH_LENGTH; otherwise it stays a string. */
function splitWithin(parse: (list: string) => unknown[]): (params: { value: unknown }) => unknown {
  return ({ value }) => (typeof value === 'string' && value.length <= MAX_PATH_LENGTH ? parse(value) : value);
}

/** The text left unsplit by `splitWithin`, refused for its length. */
function unsplit(setting: string, value: unknown): string | undefined {
  return typeof value === 'string' ? tooLong(setting, value.length, MAX_PATH_LENGTH) : undefined;
}

/** A comma-separated list of IPv4/IPv6 CIDRs (or bare addresses), parsed once into `Cidr` objects. */
export function IsCidrList(setting: string): PropertyDecorator {
  return compose(
    Transform(splitWithin((list) => splitList(list).map(parseCidr))),
    validator(
      'isCidrList',
      (value) => Array.isArray(value) && value.every((entry) => typeof entry === 'object'),
      ({ value }) => {
        const problems = Array.isArray(value) ? value.filter((entry) => typeof entry === 'string') : [];
        return (
          unsplit(setting, value) ??
          `${setting} must be a comma-separated list of CIDRs such as 149.154.160.0/20: ${problems.join('; ')}`
        );
      },
    ),
  );
}

/** A comma-separated list of `host:port` (REDIS_SENTINELS, REDIS_CLUSTER_NODES), parsed once into `HostPort` objects. */
export function IsHostPortList(setting: string): PropertyDecorator {
  return compose(
    Transform(splitWithin((list) => splitList(list).map(parseHostPort))),
    validator(
      'isHostPortList',
      (value) =>
        Array.isArray(value) && value.length > 0 && value.every((entry) => typeof entry === 'object'),
      ({ value }) => {
        const problems = Array.isArray(value) ? value.filter((entry) => typeof entry === 'string') : [];
        return (
          unsplit(setting, value) ??
          (problems.length > 0
            ? `${setting} must be a comma-separated list of host:port: ${problems.slice(0, 5).join('; ')}`
            : `${setting} must list at least one host:port`)
        );
      },
    ),
  );
}

/** A comma-separated list of update kinds such as `message,callback_query`, each matching KIND_PATTERN. */
export function IsUpdateTypeList(setting: string): PropertyDecorator {
  return compose(
    Transform(splitWithin(splitList)),
    validator(
      'isUpdateTypeList',
      (value) =>
        Array.isArray(value) &&
        value.length <= MAX_KINDS_PER_LIST &&
        value.every((entry) => typeof entry === 'string' && KIND_PATTERN.test(entry)),
      ({ value }) =>
        unsplit(setting, value) ??
        (Array.isArray(value) && value.length > MAX_KINDS_PER_LIST
          ? `${setting} lists ${value.length} update kinds; the limit is ${MAX_KINDS_PER_LIST}`
          : `${setting} must be a comma-separated list of update kinds such as message,callback_query`),
    ),
  );
}

/**
 * A URL with one of the given schemes, at most MAX_PATH_LENGTH characters. The value is never
 * echoed: URLs may carry passwords.
 */
export function IsUrlWithScheme(schemes: readonly string[]): PropertyDecorator {
  return validator(
    'isUrlWithScheme',
    (value) => {
      if (typeof value !== 'string' || value.length > MAX_PATH_LENGTH) return false;
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    ({ property, value }) =>
      typeof value === 'string' && value.length > MAX_PATH_LENGTH
        ? tooLong(property, value.length, MAX_PATH_LENGTH)
        : `${property} must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`,
  );
}

/** At most `limit` characters, checked before any pattern so a huge value costs nothing to refuse. */
export function MaxChars(limit: number): PropertyDecorator {
  return validator(
    'maxChars',
    (value) => typeof value !== 'string' || value.length <= limit,
    ({ property, value }) => tooLong(property, String(value).length, limit),
  );
}

/**
 * A string `problem` finds nothing wrong with; the problem is the message. For rules shared with
 * BOTS_FILE, which say what is wrong in the same words there (`endpointProblem`, `mqttTopicProblem`).
 */
export function Satisfies(
  name: string,
  problem: (setting: string, value: string) => string | undefined,
): PropertyDecorator {
  return validator(
    name,
    (value) => typeof value === 'string' && problem('', value) === undefined,
    ({ property, value }) => problem(property, String(value)) ?? `${property} must be a string`,
  );
}
