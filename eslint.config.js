import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.cjs', '**/*.js', '**/*.mjs'] },
  // The scripts' plain-JS modules (Node's module hooks, which load before any TypeScript can, and
  // freePort, which the bench loads without a build): linted too, and type-checked through
  // `// @ts-check` and tsconfig.json's allowJs.
  { ignores: ['!scripts/**/*.js'] },
  // The bench (plain ESM, run without a build): linted too, and type-checked through `// @ts-check`
  // and tsconfig.json's allowJs.
  { ignores: ['!bench/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: [
      'test/**/*.ts',
      'src/**/*.spec.ts',
      'bench/**/*.ts',
      'bench/*.mjs',
      'examples/**/*.ts',
      'scripts/**/*.ts',
    ],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // TypeScript checks these names (`// @ts-check`), knowing Node's globals as it does in .ts files.
    files: ['scripts/**/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    // TypeScript checks the bench's names (`// @ts-check`), Node's globals included.
    files: ['bench/*.mjs'],
    rules: { 'no-undef': 'off' },
  },
);
