import { TopicTemplate, wildcardPattern } from './topic-template.js';

describe('TopicTemplate', () => {
  it('expands {bot} and {type}', () => {
    const sut = new TopicTemplate('telegram.{bot}.{type}');
    expect(sut.render('42', 'message')).toBe('telegram.42.message');
    expect(sut.render('42', 'callback_query')).toBe('telegram.42.callback_query');
    expect(sut.render('7', 'message')).toBe('telegram.7.message');
    expect(new TopicTemplate('{bot}.{type}').render('42', 'poll')).toBe('42.poll');
    expect(new TopicTemplate('updates').render('42', 'poll')).toBe('updates');
  });
});

describe('wildcardPattern', () => {
  it('turns every token holding a placeholder into the wildcard', () => {
    expect(wildcardPattern('telegram.{bot}.{type}', '.', '*')).toBe('telegram.*.*');
    expect(wildcardPattern('tg.bot-{bot}.in.{type}', '.', '*')).toBe('tg.*.in.*');
    expect(wildcardPattern('telegram.updates', '.', '*')).toBe('telegram.updates');
    expect(wildcardPattern('telegram/{bot}/{type}', '/', '+')).toBe('telegram/+/+');
  });
});
