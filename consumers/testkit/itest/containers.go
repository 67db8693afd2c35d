package itest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// dockerAvailable reports whether a Docker engine answers. Containers started here live as
// long as the test binary; testcontainers' reaper removes them afterwards.
func dockerAvailable(ctx context.Context) error {
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return fmt.Errorf("no container provider: %w", err)
	}
	defer provider.Close()
	if err := provider.Health(ctx); err != nil {
		return fmt.Errorf("docker does not answer: %w", err)
	}
	return nil
}

// startKafkaContainer runs a single-node KRaft broker. Kafka must advertise the address the
// test dials, so the host port is chosen first and bound explicitly.
func startKafkaContainer() (brokers []string, err error) {
	defer func() {
		if r := recover(); r != nil { // testcontainers panics when no Docker socket exists
			err = fmt.Errorf("starting kafka container: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := dockerAvailable(ctx); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	hostPort := strconv.Itoa(port)
	req := testcontainers.ContainerRequest{
		Image:        KafkaImage,
		ExposedPorts: []string{"9092/tcp"},
		Env: map[string]string{
			"KAFKA_NODE_ID":                                  "1",
			"KAFKA_PROCESS_ROLES":                            "broker,controller",
			"KAFKA_LISTENERS":                                "PLAINTEXT://:9092,CONTROLLER://:9093",
			"KAFKA_ADVERTISED_LISTENERS":                     "PLAINTEXT://127.0.0.1:" + hostPort,
			"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
			"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@localhost:9093",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                "false",
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort("9092/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}},
			}
		},
		WaitingFor: wait.ForListeningPort("9092/tcp").WithStartupTimeout(2 * time.Minute),
	}
	if _, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true}); err != nil {
		return nil, fmt.Errorf("starting kafka container: %w", err)
	}
	return []string{"127.0.0.1:" + hostPort}, nil
}

// startClickHouseContainer runs a current ClickHouse server and returns its native address.
func startClickHouseContainer() (addr string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("starting clickhouse container: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := dockerAvailable(ctx); err != nil {
		return "", err
	}
	req := testcontainers.ContainerRequest{
		Image:        ClickHouseImage,
		ExposedPorts: []string{"9000/tcp", "8123/tcp"},
		Env:          map[string]string{"CLICKHOUSE_SKIP_USER_SETUP": "1"},
		WaitingFor:   wait.ForHTTP("/ping").WithPort("8123/tcp").WithStartupTimeout(2 * time.Minute),
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		return "", fmt.Errorf("starting clickhouse container: %w", err)
	}
	host, err := c.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := c.MappedPort(ctx, "9000/tcp")
	if err != nil {
		return "", err
	}
	if p.Num() == 0 {
		return "", errors.New("clickhouse container has no mapped native port")
	}
	return fmt.Sprintf("%s:%d", host, p.Num()), nil
}
