import * as ClassValidator from 'class-validator';
import * as parts from './class-validator.js';

describe('class-validator, imported by part', () => {
  const { validateSync, ...functions } = parts;

  it.each(Object.keys(functions))('%s is the function the package index exports', (name) => {
    expect(typeof functions[name as keyof typeof functions]).toBe('function');
    expect(functions[name as keyof typeof functions]).toBe(
      ClassValidator[name as keyof typeof ClassValidator],
    );
  });

  it('validateSync reports what the index’s validateSync reports', () => {
    class Sample {
      @parts.IsInt()
      @parts.Min(1)
      port: unknown = 0;

      @parts.IsOptional()
      @parts.Matches(/^[a-z]+$/)
      name?: string = 'Not-Lowercase';
    }
    const sample = new Sample();
    const ours = validateSync(sample, { stopAtFirstError: true });
    expect(ours.map((e) => e.property)).toEqual(['port', 'name']);
    expect(ours).toEqual(ClassValidator.validateSync(sample, { stopAtFirstError: true }));
    expect(validateSync(Object.assign(new Sample(), { port: 8080, name: 'ok' }))).toEqual([]);
  });
});
