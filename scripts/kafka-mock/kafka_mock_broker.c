/* A Kafka-protocol endpoint for tests: librdkafka's own mock cluster (rdkafka_mock.h),
 * hosted in a small process on 127.0.0.1 until SIGTERM/SIGINT. No Kafka broker can be
 * installed on these machines; docker-compose uses a real Kafka.
 *
 *   kafka_mock_broker BOOTSTRAP_FILE TOPIC[:PARTITIONS] ...
 *
 * Writes the bootstrap address ("127.0.0.1:PORT", an ephemeral port) to BOOTSTRAP_FILE and
 * to stdout, and creates the listed topics (default 3 partitions). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BOOTSTRAP_FILE [TOPIC[:PARTITIONS] ...]\n", argv[0]);
        return 2;
    }
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
    rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (handle == NULL) { fprintf(stderr, "rd_kafka_new: %s\n", error); return 1; }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(handle, 1);
    if (cluster == NULL) { fprintf(stderr, "cannot create the mock cluster\n"); return 1; }
    for (int i = 2; i < argc; i++) {
        char topic[256];
        int partitions = 3;
        const char *colon = strchr(argv[i], ':');
        size_t length = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
        if (length >= sizeof topic) length = sizeof topic - 1;
        memcpy(topic, argv[i], length);
        topic[length] = 0;
        if (colon) partitions = atoi(colon + 1);
        if (rd_kafka_mock_topic_create(cluster, topic, partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "cannot create topic %s\n", topic);
            return 1;
        }
    }
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    FILE *file = fopen(argv[1], "w");
    if (file == NULL) { perror("bootstrap file"); return 1; }
    fprintf(file, "%s\n", bootstrap);
    fclose(file);
    printf("%s\n", bootstrap);
    fflush(stdout);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (running) pause();
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(handle);
    return 0;
}
