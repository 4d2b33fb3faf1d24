/**
 * Polls `condition` on real time until it holds, every `intervalMs`; for state that converges on its
 * own (an API server, a real socket, promise chains on a fake client).
 * @throws Error when it still does not hold after `timeoutMs`.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
