/**
 * In a Node-RED runtime this package is what loads kafkajs, so kafkajs' producer groups, partitions and
 * encodes a send's records with the package's functions (nodes/nr/kafkajs.ts). The bench's own kafkajs clients
 * run in the same processes as its Node-RED runtimes and would load kafkajs before the package does:
 * bench/lib/kafka.ts imports this first, so the package loads kafkajs first, as in a runtime.
 */
import { replacements } from '../../dist/nodes/nr/kafkajs';

/** Which of kafkajs' functions the bench's processes use, as the report says it. */
export function kafkajsFunctions(): string {
  const own = Object.entries(replacements)
    .filter(([, r]) => r !== 'installed')
    .map(([name, r]) => `${name}: kafkajs' own (${r})`);
  return own.length === 0 ? `the package's ${Object.keys(replacements).join(', ')}` : own.join(', ');
}
