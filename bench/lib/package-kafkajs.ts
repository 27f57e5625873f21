/**
 * In a Node-RED runtime this package is what loads kafkajs, so that kafkajs' producer groups a send's
 * records with the package's linear grouping (nodes/nr/kafkajs-grouping.ts). The bench's own kafkajs
 * clients run in the same processes as its Node-RED runtimes and would load kafkajs before the package
 * does: bench/lib/kafka.ts imports this first, so the package loads kafkajs first, as in a runtime.
 */
import '../../dist/nodes/nr/kafkajs-grouping';
