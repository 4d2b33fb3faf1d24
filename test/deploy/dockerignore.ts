// Which paths of the repository reach a container build's context, by .dockerignore's rules: patterns
// in order, the last match wins, `!` re-includes, a pattern matching a directory covers what is under it,
// `*` stays within one path segment and `**` spans any number.
export type DockerIgnore = (path: string) => boolean;

function toRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*' && pattern.charAt(i + 1) === '*') {
      out += '.*';
      i++;
      if (pattern.charAt(i + 1) === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A directory pattern also matches everything below it.
  return new RegExp(`^${out}(/.*)?$`);
}

/** A predicate: true when the path (relative to the context, no leading ./) is excluded. */
export function parseDockerIgnore(text: string): DockerIgnore {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negated, re: toRegExp(pattern) };
    });
  return (path) => {
    let excluded = false;
    for (const rule of rules) if (rule.re.test(path)) excluded = !rule.negated;
    return excluded;
  };
}
