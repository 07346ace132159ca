/**
 * The deployment artefacts (deploy/kubernetes/*.yaml, the ConfigMap and Secret that
 * kustomization.yaml generates, Dockerfile) against the Kubernetes API and against
 * the app's own contract: settings, probe routes, ports, drain timing, non-root
 * user, who may reach which port.
 *
 * Schema: kubernetes-models 4.5.1, generated from the Kubernetes v1.33 OpenAPI
 * document, and @kubernetes-models/prometheus-operator for the ServiceMonitor CRD.
 * Their precompiled JSON-schema validators check types, required fields, enums
 * and formats but let unknown fields through, which `kubectl apply` rejects
 * (strict field validation is its default). So each manifest is also
 * type-checked, as an object literal, against the same models' interfaces:
 * TypeScript's excess-property check reports an unknown field at any depth.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { normaliseEndpoint, ENDPOINT_MODES } from '../src/config/endpoint.js';
import { ConfigurationError, loadConfig, SETTING_NAMES } from '../src/config/load-settings.js';
import { SECRET_SETTINGS, Settings } from '../src/config/settings.js';
import { startApp } from './support/app.js';
import { freePort } from './support/brokers.js';
import { FakeBotApi } from './support/fake-bot-api.js';
import { parseAllDocuments } from 'yaml';
import { type IDeployment, Deployment } from 'kubernetes-models/apps/v1/Deployment';
import {
  type IHorizontalPodAutoscaler,
  HorizontalPodAutoscaler,
} from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { type IIngress, Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { type INetworkPolicy, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { type IContainer } from 'kubernetes-models/v1/Container';
import { type IProbe } from 'kubernetes-models/v1/Probe';
import { Secret } from 'kubernetes-models/v1/Secret';
import { type IService, Service } from 'kubernetes-models/v1/Service';
import { type IServiceAccount, ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import {
  type IServiceMonitor,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

/**
 * The HTTP routes the manifests depend on (probes, ServiceMonitor). The check that
 * the app really serves them belongs in this file, beside the probe test below:
 * importing this constant from another spec would register all these tests again.
 */
export const DEPLOYMENT_HTTP_ROUTES = {
  readiness: '/status',
  liveness: '/status/live',
  metrics: '/metrics',
} as const;

/** The app's defaults for settings the manifests may leave unset. */
const APP_DEFAULTS = {
  WEBHOOK_PORT: new Settings().WEBHOOK_PORT,
  SHUTDOWN_TIMEOUT_MS: new Settings().SHUTDOWN_TIMEOUT_MS,
} as const;

/** The labels kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/ recommends. */
const RECOMMENDED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

/** The label Kubernetes puts on every namespace, with its name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** https://core.telegram.org/bots/webhooks#the-short-version */
const TELEGRAM_SOURCE_SUBNETS = ['149.154.160.0/20', '91.108.4.0/22'];

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MANIFEST_DIR = join(ROOT, 'deploy', 'kubernetes');
const KUSTOMIZATION = 'kustomization.yaml';
/** In the directory and validated, but deliberately not in the default kustomization. */
const OPTIONAL_MANIFESTS = ['ingress.yaml', 'servicemonitor.yaml'];
/** The Secret's source: git-ignored, never committed; the example is what a copy starts from. */
const ENV_SECRET = '.env.secret';
const ENV_SECRET_EXAMPLE = '.env.secret.example';

interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}

interface Manifest {
  readonly file: string;
  /** Position of the document in a multi-document file. */
  readonly index: number;
  readonly object: KubeObject;
}

interface Schema {
  /** Throws an error naming every violation. */
  readonly validate: (object: KubeObject) => void;
  /** The interface generated from the same definition, for the unknown-field check. */
  readonly typeModule: string;
  readonly typeName: string;
}

type ModelClass = new (data: never) => { validate(): void };

function schema(model: ModelClass, typeModule: string, typeName: string): Schema {
  return { validate: (object) => new model(object as never).validate(), typeModule, typeName };
}

/** Every apiVersion/kind a manifest may use; anything else fails as "no schema". */
const SCHEMAS = new Map<string, Schema>([
  ['v1/ConfigMap', schema(ConfigMap, 'kubernetes-models/v1/ConfigMap', 'IConfigMap')],
  ['v1/Secret', schema(Secret, 'kubernetes-models/v1/Secret', 'ISecret')],
  ['v1/Service', schema(Service, 'kubernetes-models/v1/Service', 'IService')],
  ['v1/ServiceAccount', schema(ServiceAccount, 'kubernetes-models/v1/ServiceAccount', 'IServiceAccount')],
  [
    'networking.k8s.io/v1/NetworkPolicy',
    schema(NetworkPolicy, 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'),
  ],
  ['apps/v1/Deployment', schema(Deployment, 'kubernetes-models/apps/v1/Deployment', 'IDeployment')],
  [
    'policy/v1/PodDisruptionBudget',
    schema(PodDisruptionBudget, 'kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'),
  ],
  [
    'autoscaling/v2/HorizontalPodAutoscaler',
    schema(
      HorizontalPodAutoscaler,
      'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
      'IHorizontalPodAutoscaler',
    ),
  ],
  [
    'networking.k8s.io/v1/Ingress',
    schema(Ingress, 'kubernetes-models/networking.k8s.io/v1/Ingress', 'IIngress'),
  ],
  [
    'monitoring.coreos.com/v1/ServiceMonitor',
    schema(
      ServiceMonitor,
      '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
      'IServiceMonitor',
    ),
  ],
]);

/** Top-level fields of kustomize.config.k8s.io/v1beta1 Kustomization that are not deprecated. */
const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'resources',
  'components',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'labels',
  'commonAnnotations',
  'images',
  'replicas',
  'patches',
  'replacements',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'generators',
  'transformers',
  'validators',
  'helmCharts',
  'buildMetadata',
  'openapi',
  'crds',
  'configurations',
  'sortOptions',
]);

function describeManifest(manifest: Manifest): string {
  return `${manifest.file}#${manifest.index} (${manifest.object.kind})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function defined<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`${what} is missing`);
  return value;
}

/**
 * Parses as YAML 1.1, as Kubernetes' own decoder does: `yes`, `on` or `0755` then
 * mean there what they mean here.
 */
function parseYamlFile(file: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(join(MANIFEST_DIR, file), 'utf8'), { version: '1.1' });
  if (!Array.isArray(documents)) return [];
  return documents.map((document, index) => {
    const [error] = document.errors;
    if (error) throw new Error(`${file}#${index}: ${error.message}`);
    return document.toJS() as unknown;
  });
}

function loadManifests(file: string): Manifest[] {
  const objects = parseYamlFile(file).filter((object) => object !== null);
  if (objects.length === 0) throw new Error(`${file} holds no Kubernetes object`);
  return objects.map((object, index) => {
    if (!isRecord(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      throw new Error(`${file}#${index} is not a Kubernetes object (no apiVersion or kind)`);
    }
    return { file, index, object: object as unknown as KubeObject };
  });
}

interface EnvFile {
  readonly entries: ReadonlyMap<string, string>;
  /** Lines kustomize would read otherwise than they look. */
  readonly problems: readonly string[];
}

/**
 * Reads an env file as kustomize's `envs:` does: `#` comments and blank lines skipped, the
 * rest split at the first `=`. kustomize keeps quotes and the spaces around `=` as part of
 * the key or value, and takes a line without `=` from the environment of whoever runs it:
 * such lines are reported instead.
 */
function readEnvFile(file: string): EnvFile {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  readFileSync(join(MANIFEST_DIR, file), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^\s"'].*)?$/.exec(line);
      if (!match?.[1]) problems.push(`${file}:${index + 1} is not KEY=VALUE (no quotes, no spaces)`);
      else if (entries.has(match[1])) problems.push(`${file}:${index + 1} sets ${match[1]} again`);
      else entries.set(match[1], match[2] ?? '');
    });
  return { entries, problems };
}

interface Generator {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly behavior?: unknown;
  readonly envs?: unknown;
  readonly files?: unknown;
  readonly literals?: unknown;
  readonly options?: { readonly disableNameSuffixHash?: unknown };
}

/** What kustomize makes of a configMapGenerator / secretGenerator entry, from `source`. */
function generate(kind: 'ConfigMap' | 'Secret', generator: Generator, source: string): Manifest {
  const data = Object.fromEntries(
    [...readEnvFile(source).entries].map(([key, value]) => [
      key,
      kind === 'Secret' ? Buffer.from(value).toString('base64') : value,
    ]),
  );
  const object = {
    apiVersion: 'v1',
    kind,
    metadata: { name: String(generator.name) },
    ...(kind === 'Secret' && typeof generator.type === 'string' ? { type: generator.type } : {}),
    data,
  };
  return { file: source, index: 0, object };
}

function git(...args: string[]): { status: number | null; stdout: string } {
  const run = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout };
}

/**
 * Type-checks each manifest, as a literal, against its generated interface in one
 * in-memory program, and returns the errors per manifest with the offending line.
 */
function unknownFieldErrors(manifests: readonly Manifest[]): Map<Manifest, string[]> {
  const sources = new Map<string, { manifest: Manifest; text: string }>();
  for (const manifest of manifests) {
    const schemaFor = SCHEMAS.get(`${manifest.object.apiVersion}/${manifest.object.kind}`);
    if (!schemaFor) continue;
    const fileName = join(ROOT, 'test', '.manifest-types', `${manifest.file}.${manifest.index}.ts`);
    const text =
      `import type { ${schemaFor.typeName} } from '${schemaFor.typeModule}';\n` +
      `export const manifest: ${schemaFor.typeName} = ${JSON.stringify(manifest.object, null, 2)};\n`;
    sources.set(fileName, { manifest, text });
  }

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const { fileExists, getSourceFile, readFile } = host;
  host.fileExists = (fileName) => sources.has(fileName) || fileExists(fileName);
  host.readFile = (fileName) => sources.get(fileName)?.text ?? readFile(fileName);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const source = sources.get(fileName);
    return source
      ? ts.createSourceFile(fileName, source.text, languageVersion, true)
      : getSourceFile(fileName, languageVersion, ...rest);
  };
  const program = ts.createProgram([...sources.keys()], options, host);

  const errors = new Map<Manifest, string[]>();
  for (const [fileName, { manifest, text }] of sources) {
    const sourceFile = defined(program.getSourceFile(fileName), fileName);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile),
    ];
    errors.set(
      manifest,
      diagnostics.map((diagnostic) => {
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        if (diagnostic.start === undefined) return message;
        const { line } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start);
        return `${message}\n  at: ${text.split('\n')[line]?.trim() ?? ''}`;
      }),
    );
  }
  return errors;
}

interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

interface DockerStage {
  readonly name: string;
  readonly instructions: readonly DockerInstruction[];
}

/** Enough of the Dockerfile grammar for this file: comments, continuations, FROM ... AS. */
function parseDockerfile(text: string): DockerStage[] {
  const logicalLines = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: { name: string; instructions: DockerInstruction[] }[] = [];
  for (const line of logicalLines) {
    const match = /^(\w+)\s+(.*)$/s.exec(line);
    if (!match) throw new Error(`Dockerfile: cannot parse "${line}"`);
    const keyword = defined(match[1], 'keyword').toUpperCase();
    const args = defined(match[2], 'arguments').trim();
    if (keyword === 'FROM') {
      const alias = /\s+AS\s+(\S+)$/i.exec(args);
      stages.push({ name: alias?.[1] ?? String(stages.length), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** A RUN's commands: its own flags (--mount=...) dropped, split at shell separators. */
function shellCommands(run: string): string[] {
  return run
    .replace(/^(--\S+\s+)+/, '')
    .split(/&&|\|\||;|\|/)
    .map((command) => command.trim());
}

/** An `npm ci` / `npm install` (or yarn, pnpm) that would bring devDependencies along. */
function installsDevDependencies(run: string): boolean {
  return shellCommands(run).some(
    (command) =>
      /^(npm|pnpm)\s+(ci|install|i|add)\b|^yarn(\s+(install|add)\b|$)/.test(command) &&
      !/--omit[= ]dev\b|--production\b|--prod\b/.test(command),
  );
}

function probePath(probe: IProbe | undefined, name: string): string | undefined {
  return defined(probe, name).httpGet?.path;
}

describe('deploy/kubernetes', () => {
  const manifestFiles = readdirSync(MANIFEST_DIR)
    .filter((file) => /\.ya?ml$/.test(file) && file !== KUSTOMIZATION)
    .sort();
  const fileManifests = manifestFiles.flatMap(loadManifests);
  const kustomization: unknown = parseYamlFile(KUSTOMIZATION)[0];
  const fields = isRecord(kustomization) ? kustomization : {};
  const configMapGenerators = (
    Array.isArray(fields.configMapGenerator) ? fields.configMapGenerator : []
  ) as Generator[];
  const secretGenerators = (
    Array.isArray(fields.secretGenerator) ? fields.secretGenerator : []
  ) as Generator[];
  const configMapGenerator = defined(configMapGenerators[0], 'configMapGenerator');
  const secretGenerator = defined(secretGenerators[0], 'secretGenerator');
  const settingsFile = String((configMapGenerator.envs as unknown[] | undefined)?.[0]);
  // The Secret as it is made from a copy of the example, the only source in the repository.
  const generatedManifests = [
    generate('ConfigMap', configMapGenerator, settingsFile),
    generate('Secret', secretGenerator, ENV_SECRET_EXAMPLE),
  ];
  const manifests = [...fileManifests, ...generatedManifests];
  const settingsEnv = readEnvFile(settingsFile);
  const secretExample = readEnvFile(ENV_SECRET_EXAMPLE);
  const settings = Object.fromEntries(settingsEnv.entries);
  const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

  const defaultManifests = manifests.filter((manifest) => !OPTIONAL_MANIFESTS.includes(manifest.file));
  function all<T>(kind: string, among: readonly Manifest[] = defaultManifests): T[] {
    return among
      .filter((manifest) => manifest.object.kind === kind)
      .map((manifest) => manifest.object as unknown as T);
  }
  function single<T>(kind: string, among: readonly Manifest[] = defaultManifests): T {
    const found = all<T>(kind, among);
    if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
    return defined(found[0], kind);
  }
  const deployment = single<IDeployment>('Deployment');
  const services = all<IService>('Service');
  const service = defined(
    services.find((candidate) => candidate.metadata?.name === deployment.metadata?.name),
    'the webhook Service (named as the Deployment)',
  );
  const opsService = defined(
    services.find((candidate) => candidate.metadata?.name === `${deployment.metadata?.name}-ops`),
    'the ops Service (the Deployment name + -ops)',
  );
  const podSpec = defined(deployment.spec?.template.spec, 'Deployment pod spec');
  const container: IContainer = defined(podSpec.containers[0], 'Deployment container');
  const containerPort = (name: string) =>
    defined(
      container.ports?.find((port) => port.name === name),
      `container port named ${name}`,
    );
  const httpPort = containerPort('http');
  const opsPort = containerPort('ops');
  /** A port as a Service's targetPort or a NetworkPolicy names it, as the container port's name. */
  const portName = (port: number | string | undefined): string | undefined =>
    typeof port === 'number' ? container.ports?.find((p) => p.containerPort === port)?.name : port;
  const finalStage = defined(dockerfile.at(-1), 'Dockerfile final stage');
  const finalUser = finalStage.instructions.filter((instruction) => instruction.keyword === 'USER').at(-1);

  describe('every manifest', () => {
    let typeErrors: Map<Manifest, string[]>;

    beforeAll(() => {
      typeErrors = unknownFieldErrors(manifests);
    });

    it.each([...manifestFiles, settingsFile, ENV_SECRET_EXAMPLE])(
      '%s validates against the Kubernetes schema, unknown fields included',
      (file) => {
        const problems = manifests
          .filter((manifest) => manifest.file === file)
          .flatMap((manifest) => {
            const schemaFor = SCHEMAS.get(`${manifest.object.apiVersion}/${manifest.object.kind}`);
            if (!schemaFor)
              return [`${describeManifest(manifest)}: no schema for ${manifest.object.apiVersion}`];
            const found: string[] = [];
            try {
              schemaFor.validate(manifest.object);
            } catch (error) {
              found.push(`${describeManifest(manifest)}: ${(error as Error).message}`);
            }
            for (const message of typeErrors.get(manifest) ?? ['not type-checked']) {
              found.push(`${describeManifest(manifest)}: ${message}`);
            }
            return found;
          });
        expect(problems).toEqual([]);
      },
    );

    it('leaves the namespace to whoever applies it', () => {
      const namespaced = manifests.filter((manifest) => manifest.object.metadata?.namespace !== undefined);
      expect(namespaced.map(describeManifest)).toEqual([]);
    });
  });

  describe(KUSTOMIZATION, () => {
    it('is a namespace-agnostic Kustomization with known fields only', () => {
      expect(fields).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
      expect(Object.keys(fields).filter((key) => !KUSTOMIZATION_FIELDS.has(key))).toEqual([]);
      expect(fields.namespace).toBeUndefined();
    });

    it('lists exactly the default manifests, which all exist, and not the optional ones', () => {
      const resources: unknown[] = Array.isArray(fields.resources) ? fields.resources : [];
      expect(
        resources.filter(
          (resource) => typeof resource !== 'string' || !existsSync(join(MANIFEST_DIR, resource)),
        ),
      ).toEqual([]);
      const expected = manifestFiles.filter((file) => !OPTIONAL_MANIFESTS.includes(file));
      expect([...resources].sort()).toEqual(expected);
    });

    it('puts the recommended app.kubernetes.io labels on every object and pod, and none into a selector', () => {
      const entries = (Array.isArray(fields.labels) ? fields.labels : []) as {
        pairs?: Record<string, string>;
        includeSelectors?: boolean;
        includeTemplates?: boolean;
      }[];
      const pairs = Object.assign({}, ...entries.map((entry) => entry.pairs)) as Record<string, string>;
      expect(Object.keys(pairs).sort()).toEqual([...RECOMMENDED_LABELS].sort());
      // A selector is immutable (Deployment) or would lose the running pods at an upgrade (version).
      expect(entries.map((entry) => [entry.includeSelectors, entry.includeTemplates])).toEqual(
        entries.map(() => [false, true]),
      );
      const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const images = (fields.images ?? []) as { newTag?: unknown }[];
      expect(pairs).toMatchObject({
        'app.kubernetes.io/name': 'telegram-receiver',
        'app.kubernetes.io/version': packageJson.version,
        'app.kubernetes.io/managed-by': 'kustomize',
      });
      expect(images.map((image) => image.newTag)).toEqual([packageJson.version]);
    });

    it('rewrites the image the Deployment actually names', () => {
      const imageName = defined(container.image, 'container image').replace(/[:@].*$/, '');
      const images = (fields.images ?? []) as { name?: unknown }[];
      expect(images.map((image) => image.name)).toContain(imageName);
    });
  });

  describe('settings and secrets', () => {
    it('are generated with a hash of their content in the name, so a changed setting or token rolls the pods', () => {
      const options = isRecord(fields.generatorOptions) ? fields.generatorOptions : {};
      expect(options.disableNameSuffixHash).not.toBe(true);
      const shape = (generator: Generator) => ({
        name: generator.name,
        behavior: generator.behavior ?? 'create',
        envs: generator.envs,
        files: generator.files,
        literals: generator.literals,
        hashSuffix: generator.options?.disableNameSuffixHash !== true,
      });
      // kustomize rewrites a reference by the generator's name to the hashed name.
      const [fromConfigMap, fromSecret] = container.envFrom ?? [];
      expect({ configMaps: configMapGenerators.map(shape), secrets: secretGenerators.map(shape) }).toEqual({
        configMaps: [
          {
            name: fromConfigMap?.configMapRef?.name,
            behavior: 'create',
            envs: [settingsFile],
            files: undefined,
            literals: undefined,
            hashSuffix: true,
          },
        ],
        secrets: [
          {
            name: fromSecret?.secretRef?.name,
            behavior: 'create',
            envs: [ENV_SECRET],
            files: undefined,
            literals: undefined,
            hashSuffix: true,
          },
        ],
      });
      expect(secretGenerator.type).toBe('Opaque');
    });

    it('never let `kubectl apply -k` put a placeholder over a real token: no Secret in any manifest, .env.secret ignored by git', () => {
      expect(
        fileManifests.filter((manifest) => manifest.object.kind === 'Secret').map(describeManifest),
      ).toEqual([]);
      const secretPath = `deploy/kubernetes/${ENV_SECRET}`;
      const examplePath = `deploy/kubernetes/${ENV_SECRET_EXAMPLE}`;
      // check-ignore exits 0 for an ignored path, 1 for one git would add.
      expect({
        secretIgnored: git('check-ignore', '-q', secretPath).status,
        secretCommitted: git('ls-files', secretPath).stdout,
        exampleIgnored: git('check-ignore', '-q', examplePath).status,
      }).toEqual({ secretIgnored: 0, secretCommitted: '', exampleIgnored: 1 });
    });

    it(`${ENV_SECRET_EXAMPLE} and settings.env are env files kustomize reads as written, of settings the app knows`, () => {
      expect([...settingsEnv.problems, ...secretExample.problems]).toEqual([]);
      const known = new Set(SETTING_NAMES);
      expect([...settingsEnv.entries.keys()].filter((key) => !known.has(key))).toEqual([]);
      expect([...secretExample.entries.keys()].filter((key) => !known.has(key))).toEqual([]);
      // Tokens and secrets only in the Secret.
      expect([...settingsEnv.entries.keys()].filter((key) => SECRET_SETTINGS.has(key))).toEqual([]);
    });

    it(`make a configuration the app refuses until ${ENV_SECRET} holds a real token, and accepts then`, () => {
      const env = {
        ...settings,
        ...Object.fromEntries(secretExample.entries),
        ENV_FILE: '/nonexistent/.env',
      };
      let refused: unknown;
      try {
        loadConfig(env);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ConfigurationError);
      const problems = (refused as ConfigurationError).problems;
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.filter((problem) => !problem.includes('TELEGRAM_TOKEN'))).toEqual([]);
      expect(() => loadConfig({ ...env, TELEGRAM_TOKEN: '555555:AAH_manifest-check' })).not.toThrow();
    });

    it(`put ADMIN_TOKEN and BOTS_ENCRYPTION_KEY in the Secret (${ENV_SECRET_EXAMPLE}), and BOTS_STORE=redis in settings.env starts without TELEGRAM_TOKEN`, () => {
      const commented = (file: string, key: string): boolean =>
        readFileSync(join(MANIFEST_DIR, file), 'utf8')
          .split('\n')
          .some((line) => line.startsWith(`# ${key}=`));
      for (const key of ['ADMIN_TOKEN', 'BOTS_ENCRYPTION_KEY']) {
        expect({
          key,
          inSecret: commented(ENV_SECRET_EXAMPLE, key),
          inSettings: commented(settingsFile, key),
        }).toEqual({ key, inSecret: true, inSettings: false });
      }
      expect(commented(settingsFile, 'BOTS_STORE')).toBe(true);
      // Uncommented as the files say: the store needs the key, and then no token.
      const env = { ...settings, ENV_FILE: '/nonexistent/.env', BOTS_STORE: 'redis' };
      expect(() => loadConfig(env)).toThrow('BOTS_ENCRYPTION_KEY is required with BOTS_STORE=redis');
      const key = Buffer.alloc(32, 7).toString('base64');
      expect(loadConfig({ ...env, BOTS_ENCRYPTION_KEY: key }).bots).toEqual([]);
    });
  });

  describe('Deployment and the app contract', () => {
    it(`probes ${DEPLOYMENT_HTTP_ROUTES.readiness} for readiness and ${DEPLOYMENT_HTTP_ROUTES.liveness} for liveness and startup, on the ops port`, () => {
      expect({
        readiness: probePath(container.readinessProbe, 'readinessProbe'),
        liveness: probePath(container.livenessProbe, 'livenessProbe'),
        startup: probePath(container.startupProbe, 'startupProbe'),
      }).toEqual({
        readiness: DEPLOYMENT_HTTP_ROUTES.readiness,
        liveness: DEPLOYMENT_HTTP_ROUTES.liveness,
        startup: DEPLOYMENT_HTTP_ROUTES.liveness,
      });
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        expect(portName(probe?.httpGet?.port)).toBe(opsPort.name);
      }
    });

    it('listens on WEBHOOK_PORT, which the webhook Service and the image expose', () => {
      const webhookPort = Number(settings.WEBHOOK_PORT ?? APP_DEFAULTS.WEBHOOK_PORT);
      expect(httpPort.containerPort).toBe(webhookPort);
      expect(service.spec?.ports?.map((port) => portName(port.targetPort))).toEqual([httpPort.name]);
      const exposed = finalStage.instructions.filter((instruction) => instruction.keyword === 'EXPOSE');
      expect(exposed.map((instruction) => instruction.args)).toEqual([String(webhookPort)]);
    });

    it('serves /status and /metrics on OPS_PORT, which only the -ops Service carries and the ServiceMonitor scrapes', () => {
      expect(Number(settings.OPS_PORT)).toBe(opsPort.containerPort);
      expect(opsPort.containerPort).not.toBe(httpPort.containerPort);
      expect(opsService.spec?.ports?.map((port) => [port.name, portName(port.targetPort)])).toEqual([
        ['ops', opsPort.name],
      ]);
      const monitor = single<IServiceMonitor>('ServiceMonitor', manifests);
      expect(monitor.spec.endpoints?.map((endpoint) => [endpoint.port, endpoint.path])).toEqual([
        ['ops', DEPLOYMENT_HTTP_ROUTES.metrics],
      ]);
      // A ServiceMonitor scrapes the Services it selects through their port of that name.
      const selector = monitor.spec.selector.matchLabels ?? {};
      const scraped = services.filter(
        (candidate) =>
          Object.entries(selector).every(([key, value]) => candidate.metadata?.labels?.[key] === value) &&
          candidate.spec?.ports?.some((port) => port.name === 'ops'),
      );
      expect(scraped.map((candidate) => candidate.metadata?.name)).toEqual([opsService.metadata?.name]);
    });

    it('gives the preStop pause and the app drain time to finish before SIGKILL', () => {
      const preStop = container.lifecycle?.preStop;
      const execSleep = preStop?.exec?.command?.join(' ').match(/^(?:\/bin\/)?sleep (\d+)$/)?.[1];
      const preStopSeconds = preStop?.sleep?.seconds ?? Number(execSleep ?? 0);
      expect(preStopSeconds).toBeGreaterThan(0);
      const drainSeconds = Number(settings.SHUTDOWN_TIMEOUT_MS ?? APP_DEFAULTS.SHUTDOWN_TIMEOUT_MS) / 1000;
      // 30 s is the Kubernetes default when the field is unset.
      expect(podSpec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(preStopSeconds + drainSeconds);
    });

    it('runs locked down, as the Dockerfile user', () => {
      const pod = podSpec.securityContext ?? {};
      const own = container.securityContext ?? {};
      expect({
        runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
        runAsUser: own.runAsUser ?? pod.runAsUser,
        seccompProfile: (own.seccompProfile ?? pod.seccompProfile)?.type,
        readOnlyRootFilesystem: own.readOnlyRootFilesystem,
        allowPrivilegeEscalation: own.allowPrivilegeEscalation,
        dropsAllCapabilities: own.capabilities?.drop?.includes('ALL'),
      }).toEqual({
        runAsNonRoot: true,
        runAsUser: Number(finalUser?.args.split(':')[0]),
        seccompProfile: 'RuntimeDefault',
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        dropsAllCapabilities: true,
      });
    });

    it('runs as its own ServiceAccount, with no API token mounted', () => {
      const account = single<IServiceAccount>('ServiceAccount');
      expect({
        serviceAccountName: podSpec.serviceAccountName,
        podMountsToken: podSpec.automountServiceAccountToken,
        accountMountsToken: account.automountServiceAccountToken,
      }).toEqual({
        serviceAccountName: account.metadata?.name,
        podMountsToken: false,
        accountMountsToken: false,
      });
    });

    it('takes its environment from the generated ConfigMap and Secret, the Secret last', () => {
      expect(container.envFrom).toEqual([
        { configMapRef: { name: configMapGenerator.name } },
        { secretRef: { name: secretGenerator.name } },
      ]);
    });

    it('is the pod set the Services, PDB, HPA, NetworkPolicy, Ingress and ServiceMonitor point at', () => {
      const podLabels = deployment.spec?.template.metadata?.labels ?? {};
      const pdb = single<IPodDisruptionBudget>('PodDisruptionBudget');
      const hpa = single<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler');
      const policy = single<INetworkPolicy>('NetworkPolicy');
      const ingress = single<IIngress>('Ingress', manifests);

      expect(podLabels).toMatchObject(defined(deployment.spec?.selector.matchLabels, 'Deployment selector'));
      for (const each of services) {
        expect(podLabels).toMatchObject(defined(each.spec?.selector, `${each.metadata?.name} selector`));
      }
      expect(podLabels).toMatchObject(defined(pdb.spec?.selector?.matchLabels, 'PDB selector'));
      expect(podLabels).toMatchObject(
        defined(policy.spec?.podSelector?.matchLabels, 'NetworkPolicy selector'),
      );
      expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata?.name });
      const backends = ingress.spec?.rules?.flatMap((rule) => rule.http?.paths ?? []) ?? [];
      expect(backends.map((path) => path.backend.service)).toEqual([
        { name: service.metadata?.name, port: { name: service.spec?.ports?.[0]?.name } },
      ]);
    });

    it('exposes only the webhook path at the Ingress, never /status or /metrics', () => {
      const ingress = single<IIngress>('Ingress', manifests);
      const endpoint = settings.WEBHOOK_ENDPOINT ?? new Settings().WEBHOOK_ENDPOINT;
      // hash, random and token are paths computed at start, which no Ingress can name.
      expect(ENDPOINT_MODES.has(endpoint)).toBe(false);
      const paths = ingress.spec?.rules?.flatMap((rule) => rule.http?.paths ?? []) ?? [];
      expect(paths.map((path) => [path.pathType, path.path])).toEqual([
        ['Exact', `/${normaliseEndpoint(endpoint)}`],
      ]);
      expect(ingress.spec?.defaultBackend).toBeUndefined();
      for (const route of Object.values(DEPLOYMENT_HTTP_ROUTES)) {
        expect(paths.map((path) => path.path)).not.toContain(route);
      }
    });

    it('lets the ingress controller reach the webhook port and monitoring the ops port, and no one else', () => {
      const policy = single<INetworkPolicy>('NetworkPolicy');
      expect(policy.spec?.policyTypes).toContain('Ingress');
      const rules = (policy.spec?.ingress ?? []).map((rule) => ({
        ports: rule.ports?.map((port) => portName(port.port)),
        // A peer that is not one whole namespace, or a rule with no peer or no port, shows as itself.
        from: rule.from?.map((peer) =>
          Object.keys(peer).length === 1 && Object.keys(peer.namespaceSelector ?? {}).length === 1
            ? (peer.namespaceSelector?.matchLabels?.[NAMESPACE_NAME_LABEL] ?? peer)
            : peer,
        ),
      }));
      expect(rules).toEqual([
        { ports: [httpPort.name], from: ['ingress-nginx'] },
        { ports: [opsPort.name], from: ['monitoring'] },
      ]);
    });

    it('admits only Telegram, at the Ingress and in the app', () => {
      const ingress = single<IIngress>('Ingress', manifests);
      const allowed = ingress.metadata?.annotations?.['nginx.ingress.kubernetes.io/whitelist-source-range'];
      expect(allowed?.split(',').map((subnet) => subnet.trim())).toEqual(TELEGRAM_SOURCE_SUBNETS);
      const limited = settings.WEBHOOK_LIMIT_SUBNETS;
      if (limited !== undefined) {
        expect(limited.split(',').map((subnet) => subnet.trim())).toEqual(TELEGRAM_SOURCE_SUBNETS);
      }
    });
  });

  describe('Dockerfile final stage', () => {
    it('runs as a numeric non-root USER', () => {
      expect(finalUser?.args).toMatch(/^\d+(:\d+)?$/);
      expect(Number(finalUser?.args.split(':')[0])).toBeGreaterThan(0);
    });

    it('starts node directly with exec-form CMD ["node","dist/main.js"], so SIGTERM reaches it', () => {
      const keywords = finalStage.instructions.map((instruction) => instruction.keyword);
      expect(keywords).not.toContain('ENTRYPOINT');
      const cmd = finalStage.instructions.filter((instruction) => instruction.keyword === 'CMD').at(-1);
      const args = defined(cmd, 'CMD').args;
      let form: unknown;
      try {
        form = JSON.parse(args);
      } catch {
        form = `shell form: ${args}`;
      }
      expect(form).toEqual(['node', 'dist/main.js']);
    });

    it('sets NODE_ENV=production', () => {
      const env = finalStage.instructions.filter((instruction) => instruction.keyword === 'ENV');
      expect(env.map((instruction) => instruction.args)).toContain('NODE_ENV=production');
    });

    it('holds production dependencies only', () => {
      const installs = finalStage.instructions
        .filter((instruction) => instruction.keyword === 'RUN' && installsDevDependencies(instruction.args))
        .map((instruction) => instruction.args);
      expect(installs).toEqual([]);
      // node_modules copied in must come from a stage that installed without devDependencies.
      const sources = finalStage.instructions
        .filter((instruction) => instruction.keyword === 'COPY' && /node_modules/.test(instruction.args))
        .map((instruction) => /--from=(\S+)/.exec(instruction.args)?.[1]);
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        const stage = defined(
          dockerfile.find((candidate) => candidate.name === source),
          `stage ${source ?? '(build context)'}`,
        );
        const runs = stage.instructions.filter((instruction) => instruction.keyword === 'RUN');
        expect(runs.filter((run) => installsDevDependencies(run.args)).map((run) => run.args)).toEqual([]);
        expect(runs.some((run) => /\bnpm\s+ci\b.*--omit[= ]dev\b/.test(run.args))).toBe(true);
      }
    });
  });

  describe('the app serves what the manifests probe', () => {
    it.each(Object.entries(DEPLOYMENT_HTTP_ROUTES))(
      '%s: GET %s is answered on OPS_PORT, and not on the webhook port',
      async (_name, path) => {
        const token = '555555:AAH_manifest-check';
        const api = await FakeBotApi.start({ bots: [{ token, id: 555555, username: 'manifest_bot' }] });
        // The port settings.env names may be taken on this machine; the listener is what counts.
        const opsListener = await freePort();
        const app = await startApp(
          {
            TELEGRAM_TOKEN: token,
            TELEGRAM_API_URL: api.url,
            TELEGRAM_SET_WEBHOOK: 'false',
            REDIS_URL: 'redis://127.0.0.1:6379',
            WEBHOOK_BIND: '127.0.0.1',
            OPS_PORT: String(opsListener),
          },
          { listen: true },
        );
        try {
          expect({
            ops: (await fetch(`http://127.0.0.1:${opsListener}${path}`)).status,
            webhook: (await fetch(`${app.url}${path}`)).status,
          }).toEqual({ ops: 200, webhook: 404 });
        } finally {
          await app.close();
          await api.close();
        }
      },
    );
  });
});
