package smoke.bench;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.stddev;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.timestamp_seconds;
import static org.apache.spark.sql.functions.unix_millis;
import static org.apache.spark.sql.functions.window;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The bench's peer: the seed's Spark Structured Streaming query over the bench topic, once
 * ({@code Trigger.AvailableNow}: everything on the topic when it starts, then stop), final windows
 * (append mode behind the watermark) to a JSON file sink, so the bench can compare them with ours.
 *
 * <p>Arguments: {@code <brokers> <topic> <outputDir> <workDir> <shufflePartitions>}. The work folder
 * holds the checkpoint and the warehouse, and is the JVM's java.io.tmpdir (so Spark's local dir); the
 * bench removes it afterwards.
 *
 * <p>At the end one line {@code SPARK_PEER_RESULT {json}} on stdout: the query's batches (from its
 * StreamingQueryProgress), and this process's CPU time and peak RSS at three points (from
 * /proc/self and the JVM), so that JVM start and session setup can be told apart from the query.
 */
public final class SparkPeer {
  private SparkPeer() {}

  /** The Kaggle headers the bench producer writes (bench/lib/dataset.ts readingAt), as the seed reads them. */
  private static final StructType READING = new StructType()
      .add("UTC", DataTypes.DoubleType)
      .add("Temperature[C]", DataTypes.DoubleType)
      .add("Humidity[%]", DataTypes.DoubleType)
      .add("TVOC[ppb]", DataTypes.DoubleType)
      .add("eCO2[ppm]", DataTypes.DoubleType)
      .add("Pressure[hPa]", DataTypes.DoubleType)
      .add("PM2.5", DataTypes.DoubleType)
      .add("Fire Alarm", DataTypes.IntegerType)
      .add("device_id", DataTypes.StringType);

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: SparkPeer <brokers> <topic> <outputDir> <workDir> <shufflePartitions>");
      System.exit(2);
    }
    String brokers = args[0];
    String topic = args[1];
    String output = args[2];
    Path work = Path.of(args[3]);
    String shufflePartitions = args[4];
    try {
      run(brokers, topic, output, work, shufflePartitions);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
    // Kafka and Hadoop leave non-daemon threads behind: the result is out, so end here.
    System.exit(0);
  }

  private static void run(String brokers, String topic, String output, Path work, String shufflePartitions) throws Exception {
    Mark jvmStarted = new Mark(0, 0);
    Mark entered = Mark.now();
    SparkSession spark = SparkSession.builder()
        .appName("smoke-bench-spark-peer")
        .master("local[2]")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", work.resolve("warehouse").toString())
        .config("spark.sql.shuffle.partitions", shufflePartitions)
        .config("spark.sql.session.timeZone", "UTC")
        // Not supported by streaming queries (Spark says so with a warning at every start).
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate();

    Column r = col("r");
    Dataset<Row> readings = spark.readStream()
        .format("kafka")
        .option("kafka.bootstrap.servers", brokers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .select(from_json(col("value").cast("string"), READING).alias("r"))
        .select(
            r.getField("device_id").alias("deviceId"),
            timestamp_seconds(r.getField("UTC")).alias("ts"),
            r.getField("Temperature[C]").alias("temperature"),
            r.getField("Humidity[%]").alias("humidity"),
            r.getField("TVOC[ppb]").alias("tvoc"),
            r.getField("eCO2[ppm]").alias("eco2"),
            r.getField("PM2.5").alias("pm2_5"),
            r.getField("Pressure[hPa]").alias("pressure"),
            r.getField("Fire Alarm").alias("fireAlarm"));

    // The seed's query (CONTRACT §5): 5-minute windows sliding by 1 minute per device, 10-minute watermark.
    Dataset<Row> windows = readings
        .withWatermark("ts", "10 minutes")
        .groupBy(window(col("ts"), "5 minutes", "1 minute"), col("deviceId"))
        .agg(
            count(lit(1)).alias("count"),
            sum("fireAlarm").alias("fireAlarmCount"),
            avg("temperature").alias("avgTemperature"),
            avg("humidity").alias("avgHumidity"),
            avg("tvoc").alias("avgTvoc"),
            avg("eco2").alias("avgEco2"),
            avg("pm2_5").alias("avgPm25"),
            avg("pressure").alias("avgPressure"),
            max("temperature").alias("maxTemperature"),
            min("temperature").alias("minTemperature"),
            stddev("temperature").alias("stddevTemperature"))
        .select(
            col("deviceId"),
            unix_millis(col("window.start")).alias("windowStart"),
            unix_millis(col("window.end")).alias("windowEnd"),
            col("count"), col("fireAlarmCount"), col("avgTemperature"), col("avgHumidity"), col("avgTvoc"),
            col("avgEco2"), col("avgPm25"), col("avgPressure"), col("maxTemperature"), col("minTemperature"),
            col("stddevTemperature"));

    Mark sessionReady = Mark.now();
    StreamingQuery query = windows.writeStream()
        .format("json")
        .outputMode("append")
        .option("path", output)
        .option("checkpointLocation", work.resolve("checkpoint").toString())
        .trigger(Trigger.AvailableNow())
        .start();
    query.awaitTermination();
    Mark queryEnded = Mark.now();
    StreamingQueryProgress[] progress = query.recentProgress();
    spark.stop();
    Mark stopped = Mark.now();

    StringBuilder json = new StringBuilder("{");
    json.append("\"jvmStartEpochMs\":").append(ManagementFactory.getRuntimeMXBean().getStartTime());
    json.append(",\"marks\":{");
    json.append("\"jvmStarted\":").append(jvmStarted.json());
    json.append(",\"mainEntered\":").append(entered.json());
    json.append(",\"sessionReady\":").append(sessionReady.json());
    json.append(",\"queryEnded\":").append(queryEnded.json());
    json.append(",\"stopped\":").append(stopped.json());
    json.append("},\"peakRssKB\":").append(procStatusKB("VmHWM"));
    json.append(",\"batches\":[");
    for (int i = 0; i < progress.length; i++) {
      StreamingQueryProgress p = progress[i];
      Long trigger = p.durationMs().get("triggerExecution");
      if (i > 0) json.append(',');
      json.append(String.format(Locale.ROOT, "{\"batchId\":%d,\"timestamp\":\"%s\",\"numInputRows\":%d,\"triggerExecutionMs\":%d}",
          p.batchId(), p.timestamp(), p.numInputRows(), trigger == null ? 0L : trigger));
    }
    json.append("]}");
    System.out.println("SPARK_PEER_RESULT " + json);
    System.out.flush();
  }

  /** A point in the run: milliseconds since the JVM started and this process's CPU time so far. */
  private static final class Mark {
    final long uptimeMs;
    final long cpuMs;

    Mark(long uptimeMs, long cpuMs) {
      this.uptimeMs = uptimeMs;
      this.cpuMs = cpuMs;
    }

    static Mark now() {
      long cpuNs = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
      return new Mark(ManagementFactory.getRuntimeMXBean().getUptime(), cpuNs / 1_000_000L);
    }

    String json() {
      return "{\"uptimeMs\":" + uptimeMs + ",\"cpuMs\":" + cpuMs + "}";
    }
  }

  /** A kB figure of /proc/self/status (VmHWM: the peak resident set size), or -1 where there is none. */
  private static long procStatusKB(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (Exception e) {
      // not Linux: the bench reports the figure as unknown
    }
    return -1;
  }
}
