/**
 * kafkajs, as this package's modules take its values: first the producer's linear grouping of a
 * send's records by partition (kafkajs-grouping.ts, which must load before kafkajs does), then kafkajs.
 * Type-only imports may come from 'kafkajs' itself.
 */
import './kafkajs-grouping';

export { AssignerProtocol, CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';
