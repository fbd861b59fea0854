/* The reference the benchmark holds the runtime against: librdkafka's consumer and producer in plain
 * C, records copied from INPUT to OUTPUT with their keys and headers. With TXN_MS > 0 it is
 * exactly-once the way librdkafka's examples/transactions.c is: one transaction every TXN_MS, the
 * consumer's positions sent into it. Runs until SIGTERM. The consumer takes the same group and fetch
 * timings as the runtime's rows (name=value arguments), so that both read the broker alike.
 *
 *   pipe BOOTSTRAP GROUP INPUT OUTPUT TXN_MS [name=value ...]
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t running = 1;
static void stop(int signal) { (void)signal; running = 0; }

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "pipe: %s: %s\n", name, error);
        exit(2);
    }
}

static void check(rd_kafka_error_t *error, const char *what) {
    if (error) {
        fprintf(stderr, "pipe: %s: %s\n", what, rd_kafka_error_string(error));
        exit(1);
    }
}

/* The consumer's positions go into the open transaction, which is committed and a new one begun. */
static void commit(rd_kafka_t *consumer, rd_kafka_t *producer) {
    rd_kafka_topic_partition_list_t *offsets;
    if (rd_kafka_assignment(consumer, &offsets) != RD_KAFKA_RESP_ERR_NO_ERROR) exit(1);
    rd_kafka_position(consumer, offsets);
    rd_kafka_consumer_group_metadata_t *group = rd_kafka_consumer_group_metadata(consumer);
    check(rd_kafka_send_offsets_to_transaction(producer, offsets, group, -1), "send offsets");
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(offsets);
    check(rd_kafka_commit_transaction(producer, -1), "commit");
    check(rd_kafka_begin_transaction(producer), "begin");
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: pipe BOOTSTRAP GROUP INPUT OUTPUT TXN_MS [name=value ...]\n");
        return 2;
    }
    const char *output = argv[4];
    int txn_ms = atoi(argv[5]);
    char error[512];
    signal(SIGTERM, stop);
    signal(SIGINT, stop);

    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    set(cconf, "bootstrap.servers", argv[1]);
    set(cconf, "group.id", argv[2]);
    set(cconf, "auto.offset.reset", "earliest");
    set(cconf, "enable.auto.commit", txn_ms > 0 ? "false" : "true");
    set(cconf, "isolation.level", "read_committed");
    /* The same fetch sizes as the runtime's rows. */
    set(cconf, "fetch.max.bytes", "52428800");
    set(cconf, "max.partition.fetch.bytes", "10485760");
    for (int i = 6; i < argc; i++) {
        char property[512];
        snprintf(property, sizeof property, "%s", argv[i]);
        char *equals = strchr(property, '=');
        if (!equals) { fprintf(stderr, "pipe: %s is not name=value\n", argv[i]); return 2; }
        *equals = 0;
        set(cconf, property, equals + 1);
    }
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, error, sizeof error);
    if (!consumer) { fprintf(stderr, "pipe: consumer: %s\n", error); return 1; }
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[3], RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(consumer, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) return 1;
    rd_kafka_topic_partition_list_destroy(topics);

    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    set(pconf, "bootstrap.servers", argv[1]);
    set(pconf, "queue.buffering.max.messages", "1000000");
    if (txn_ms > 0) {
        char id[600];
        snprintf(id, sizeof id, "%s-txn", argv[2]);
        set(pconf, "transactional.id", id);
    }
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, error, sizeof error);
    if (!producer) { fprintf(stderr, "pipe: producer: %s\n", error); return 1; }
    if (txn_ms > 0) {
        check(rd_kafka_init_transactions(producer, 60000), "init transactions");
        check(rd_kafka_begin_transaction(producer), "begin");
    }

    long long last_commit = now_ms();
    while (running) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 50);
        if (message) {
            if (!message->err) {
                rd_kafka_headers_t *headers = NULL, *copy = NULL;
                if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) copy = rd_kafka_headers_copy(headers);
                rd_kafka_resp_err_t err;
                while ((err = rd_kafka_producev(
                            producer, RD_KAFKA_V_TOPIC(output), RD_KAFKA_V_KEY(message->key, message->key_len),
                            RD_KAFKA_V_VALUE(message->payload, message->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    rd_kafka_poll(producer, 10);
                }
                if (err) { fprintf(stderr, "pipe: produce: %s\n", rd_kafka_err2str(err)); return 1; }
            }
            rd_kafka_message_destroy(message);
        }
        rd_kafka_poll(producer, 0);
        if (txn_ms > 0 && now_ms() - last_commit >= txn_ms) {
            commit(consumer, producer);
            last_commit = now_ms();
        }
    }
    if (txn_ms > 0) rd_kafka_abort_transaction(producer, 5000);
    rd_kafka_flush(producer, 5000);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(producer);
    rd_kafka_destroy(consumer);
    return 0;
}
