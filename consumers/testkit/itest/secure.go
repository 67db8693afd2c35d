package itest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// CA is a test certificate authority and one server certificate for 127.0.0.1 and
// localhost, written as PEM files into a test's temporary directory.
type CA struct {
	CAFile   string // the CA certificate (what clients trust)
	CertFile string // the server certificate
	KeyFile  string // its PKCS#8 private key
	// ServerPEM holds key then certificate chain in one file (Kafka's PEM keystore).
	ServerPEM string
}

// NewCA generates a CA and a server certificate signed by it (ECDSA P-256, valid one day).
func NewCA(t testing.TB) CA {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating CA key: %v", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "taskole test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("creating CA certificate: %v", err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating server key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatalf("creating server certificate: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("encoding server key: %v", err)
	}
	return writeCA(t, dir, caDER, der, pkcs8)
}

// writeCA writes the CA certificate caDER, the server certificate der and its key pkcs8 as
// PEM files into dir.
func writeCA(t testing.TB, dir string, caDER, der, pkcs8 []byte) CA {
	t.Helper()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	ca := CA{
		CAFile:    filepath.Join(dir, "ca.pem"),
		CertFile:  filepath.Join(dir, "server.crt"),
		KeyFile:   filepath.Join(dir, "server.key"),
		ServerPEM: filepath.Join(dir, "server.pem"),
	}
	for path, b := range map[string][]byte{
		ca.CAFile: caPEM, ca.CertFile: certPEM, ca.KeyFile: keyPEM,
		ca.ServerPEM: append(append(append([]byte{}, keyPEM...), certPEM...), caPEM...),
	} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatalf("writing %s: %v", path, err)
		}
	}
	return ca
}

// ClientTLS is a tls.Config that trusts only the CA.
func (ca CA) ClientTLS(t testing.TB) *tls.Config {
	t.Helper()
	b, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// SecureKafka is a private single-node KRaft broker whose client listener is SASL_SSL with
// PLAIN and SCRAM-SHA-512 enabled.
type SecureKafka struct {
	Addr                 string // SASL_SSL listener
	PlainUser, PlainPass string
	ScramUser, ScramPass string
}

// StartSecureKafka starts a private broker (its own process and data in t.TempDir, stopped
// at cleanup) with the Kafka jars the local servers use: TASKOLE_KAFKA_LIBS, else
// $TASKOLE_RUN_DIR/kafka/libs, else .run/kafka/libs at the top of the repository (`make up`
// fetches them there). Under -short it skips the test.
func StartSecureKafka(t testing.TB, ca CA) SecureKafka {
	t.Helper()
	skipShort(t, "a private SASL_SSL broker")
	libs := kafkaLibs(t)
	if _, err := exec.LookPath("java"); err != nil {
		unavailable(t, "java for a private broker", err)
	}
	ports := freePorts(t, 3)
	k := SecureKafka{
		Addr:      fmt.Sprintf("127.0.0.1:%d", ports[0]),
		PlainUser: "alice", PlainPass: "alice-" + Unique(t),
		ScramUser: "bob", ScramPass: "bob-" + Unique(t),
	}
	dir := t.TempDir()
	props := fmt.Sprintf(secureKafkaProps, ports[0], ports[1], ports[2], ca.ServerPEM, k.PlainUser, k.PlainPass, filepath.Join(dir, "data"))
	cfgFile := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(cfgFile, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	log4j := filepath.Join(repoRoot(t), "deploy", "local", "log4j2.yaml")
	java := func(args ...string) *exec.Cmd {
		base := []string{"-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-Dlog4j2.configurationFile=" + log4j, "-cp", filepath.Join(libs, "*")}
		// The broker lives until startProcess's cleanup; t.Context() would end it before the
		// cleanups that still use it.
		return exec.Command("java", append(base, args...)...) //nolint:noctx // see above
	}
	format := java("kafka.tools.StorageTool", "format", "-t", "q1Sh-9_ISia_zwGINzRvyQ", "-c", cfgFile,
		"--add-scram", fmt.Sprintf("SCRAM-SHA-512=[name=%s,password=%s]", k.ScramUser, k.ScramPass))
	if out, err := format.CombinedOutput(); err != nil {
		t.Fatalf("formatting private broker storage: %v\n%s", err, out)
	}
	logBuf := startProcess(t, "private broker", java("kafka.Kafka", cfgFile))
	// Ready when a SCRAM client over TLS answers.
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Addr), kgo.DialTLSConfig(ca.ClientTLS(t)),
		kgo.SASL(scram.Auth{User: k.ScramUser, Pass: k.ScramPass}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ping := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return cl.Ping(ctx)
	}
	awaitAnswer(t, "private SASL_SSL broker", 500*time.Millisecond, ping, func() string { return tail(logBuf.String(), 4000) })
	return k
}

// SecureClickHouse is a private clickhouse-server whose only native port is TLS and whose
// users all need a password.
type SecureClickHouse struct {
	Addr           string // tcp_port_secure
	PlainAddr      string // tcp_port (plaintext, same users)
	User, Password string
}

// StartSecureClickHouse starts a private clickhouse-server (data in t.TempDir, stopped at
// cleanup) with a TLS native port and a password user. Under -short it skips the test.
func StartSecureClickHouse(t testing.TB, ca CA) SecureClickHouse {
	t.Helper()
	skipShort(t, "a private TLS clickhouse-server")
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		unavailable(t, "clickhouse-server for a private server", err)
	}
	ports := freePorts(t, 4)
	s := SecureClickHouse{
		Addr:      fmt.Sprintf("127.0.0.1:%d", ports[0]),
		PlainAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		User:      "taskole", Password: "ch-" + Unique(t),
	}
	dir := t.TempDir()
	config := fmt.Sprintf(secureClickHouseConfig, dir, ports[0], ports[1], ports[2], ports[3], ca.CertFile, ca.KeyFile)
	users := fmt.Sprintf(secureClickHouseUsers, s.Password, s.User)
	for name, body := range map[string]string{"config.xml": config, "users.xml": users} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	server := exec.Command(bin, "--config-file="+filepath.Join(dir, "config.xml")) //nolint:noctx // as java above: stopped by startProcess's cleanup
	logBuf := startProcess(t, "private clickhouse", server)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr}, TLS: ca.ClientTLS(t),
		Auth: clickhouse.Auth{Username: s.User, Password: s.Password}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	awaitAnswer(t, "private TLS clickhouse", 300*time.Millisecond, conn.Ping, func() string {
		errLog, _ := os.ReadFile(filepath.Join(dir, "server.err.log"))
		return tail(logBuf.String(), 2000) + "\n" + tail(string(errLog), 2000)
	})
	return s
}

// secureKafkaProps is the private broker's server.properties: SASL_SSL (PLAIN and
// SCRAM-SHA-512) outside, plaintext inside. Arguments: the SASL_SSL, internal and
// controller ports, the server PEM, the PLAIN user and password, the data directory.
const secureKafkaProps = `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:%[3]d
listeners=SASL_SSL://127.0.0.1:%[1]d,INTERNAL://127.0.0.1:%[2]d,CONTROLLER://127.0.0.1:%[3]d
advertised.listeners=SASL_SSL://127.0.0.1:%[1]d,INTERNAL://127.0.0.1:%[2]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_%[5]s="%[6]s";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=%[4]s
log.dirs=%[7]s
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
`

// secureClickHouseConfig is the private clickhouse-server's config.xml. Arguments: the
// directory, the TLS native, plaintext native, HTTP and interserver ports, the certificate
// and key files.
const secureClickHouseConfig = `<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog></logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port_secure>%[2]d</tcp_port_secure>
    <tcp_port>%[3]d</tcp_port>
    <http_port>%[4]d</http_port>
    <interserver_http_port>%[5]d</interserver_http_port>
    <openSSL>
        <server>
            <certificateFile>%[6]s</certificateFile>
            <privateKeyFile>%[7]s</privateKeyFile>
            <verificationMode>none</verificationMode>
            <loadDefaultCAFile>false</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
    </openSSL>
    <max_concurrent_queries>50</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/user_files/</user_files_path>
    <format_schema_path>%[1]s/format_schemas/</format_schema_path>
    <users_config>%[1]s/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
`

// secureClickHouseUsers is its users.xml. Arguments: the password and the user.
const secureClickHouseUsers = `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default><password>%[1]s-default</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
        <%[2]s><password>%[1]s</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></%[2]s>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// kafkaLibs is the directory of the Kafka jars: TASKOLE_KAFKA_LIBS, else
// $TASKOLE_RUN_DIR/kafka/libs, else .run/kafka/libs at the top of the repository.
func kafkaLibs(t testing.TB) string {
	t.Helper()
	libs := os.Getenv("TASKOLE_KAFKA_LIBS")
	if libs == "" {
		run := os.Getenv("TASKOLE_RUN_DIR") // as deploy/local/servers.sh
		if run == "" {
			run = filepath.Join(repoRoot(t), ".run")
		}
		libs = filepath.Join(run, "kafka", "libs")
	}
	if _, err := os.Stat(libs); err != nil {
		unavailable(t, "kafka jars for a private broker", fmt.Errorf("%w (set TASKOLE_KAFKA_LIBS or run `make up`)", err))
	}
	return libs
}

// freePorts returns n free local ports.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	return ports
}

// startProcess starts cmd (what names it in errors), killed at cleanup, and returns the
// buffer its output goes to.
func startProcess(t testing.TB, what string, cmd *exec.Cmd) *bytes.Buffer {
	t.Helper()
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", what, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &logBuf
}

// awaitAnswer calls ping, pause apart, until it succeeds; after 60 s it fails the test with
// the last error and what logs returns (the server's output).
func awaitAnswer(t testing.TB, what string, pause time.Duration, ping func(context.Context) error, logs func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		err := ping(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s did not answer in 60s: %v\n%s", what, err, logs())
		}
		time.Sleep(pause)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// repoRoot is the directory holding go.mod, found upwards from the working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module ") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal(errors.New("no go.mod above the working directory"))
		}
		dir = parent
	}
}

// Cluster is the local clusters of deploy/local/cluster.sh, for `make test-cluster`.
type Cluster struct {
	Brokers    []string // three KRaft brokers
	ClickHouse []string // two replicas of one shard
	Name       string   // the remote_servers cluster
	// Sharded names the two-shard cluster (shard 01: ClickHouse, shard 02: Shard2), when
	// cluster.sh runs it (--shards 2); see ShardedCluster.
	Sharded string
	Shard2  string // the server of shard 02
	Dir     string // cluster.sh's state: kafka<i>/pid, ch<i>/pid, zk/pid
	Script  string // deploy/local/cluster.sh
}

// Kill SIGKILLs the process whose pid file is Dir/<part>/pid (kafka0…2, ch0…1, zk).
func (c Cluster) Kill(t testing.TB, part string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Dir, part, "pid"))
	if err != nil {
		t.Fatalf("reading pid of %s: %v", part, err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("reading pid of %s: %v", part, err)
	}
	p, err := os.FindProcess(pid) // on Unix always succeeds; Kill sends SIGKILL
	if err == nil {
		err = p.Kill()
	}
	if err != nil {
		t.Fatalf("kill -9 %s (pid %d): %v", part, pid, err)
	}
}

// Up restarts whatever of the clusters is down (cluster.sh up kafka|clickhouse).
func (c Cluster) Up(t testing.TB, what string) {
	t.Helper()
	// Not t.Context(): tests call Up from their cleanups, after it is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, c.Script, "up", what).CombinedOutput(); err != nil {
		t.Fatalf("cluster.sh up %s: %v\n%s", what, err, out)
	}
}

// ShardedCluster is LocalCluster with the two-shard layout, which must be running
// (cluster.sh up --shards 2, as make test-cluster does).
func ShardedCluster(t testing.TB) Cluster {
	t.Helper()
	c := LocalCluster(t)
	if c.Sharded == "" || c.Shard2 == "" {
		t.Fatalf("TASKOLE_CLUSTER=1 but the sharded layout is not described: eval \"$(deploy/local/cluster.sh env)\"")
	}
	if err := pingClickHouse(c.Shard2); err != nil {
		t.Fatalf("clickhouse shard 02 %s: %v (deploy/local/cluster.sh up --shards 2)", c.Shard2, err)
	}
	return c
}

// LocalCluster returns the clusters from TASKOLE_CLUSTER_* (cluster.sh env). Cluster tests
// skip unless TASKOLE_CLUSTER=1, and then fail when the clusters are missing.
func LocalCluster(t testing.TB) Cluster {
	t.Helper()
	if os.Getenv("TASKOLE_CLUSTER") != "1" {
		t.Skip("cluster test: run `make test-cluster` (TASKOLE_CLUSTER=1)")
	}
	c := Cluster{
		Brokers:    strings.Split(os.Getenv("TASKOLE_CLUSTER_KAFKA_BROKERS"), ","),
		ClickHouse: strings.Split(os.Getenv("TASKOLE_CLUSTER_CLICKHOUSE_ADDRS"), ","),
		Name:       os.Getenv("TASKOLE_CLUSTER_CLICKHOUSE_NAME"),
		Sharded:    os.Getenv("TASKOLE_CLUSTER_CLICKHOUSE_SHARDED_NAME"),
		Shard2:     os.Getenv("TASKOLE_CLUSTER_CLICKHOUSE_SHARD2_ADDR"),
		Dir:        os.Getenv("TASKOLE_CLUSTER_DIR"),
		Script:     os.Getenv("TASKOLE_CLUSTER_SCRIPT"),
	}
	if len(c.Brokers) < 3 || len(c.ClickHouse) < 2 || c.Name == "" || c.Dir == "" || c.Script == "" {
		t.Fatalf("TASKOLE_CLUSTER=1 but the clusters are not described: eval \"$(deploy/local/cluster.sh env)\"")
	}
	for _, a := range c.ClickHouse {
		if err := pingClickHouse(a); err != nil {
			t.Fatalf("clickhouse replica %s: %v (make up-cluster)", a, err)
		}
	}
	return c
}
