/**
 * In a Node-RED runtime this package is what loads kafkajs, so kafkajs' producer groups and encodes a
 * send's records with the package's functions (nodes/nr/kafkajs.ts). The bench's own kafkajs clients
 * run in the same processes as its Node-RED runtimes and would load kafkajs before the package does:
 * bench/lib/kafka.ts imports this first, so the package loads kafkajs first, as in a runtime.
 */
import '../../dist/nodes/nr/kafkajs';
