package stream

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Processor's Prometheus metrics, labelled with the consumer name.
type metrics struct {
	in, out     *prometheus.CounterVec // committed records per topic
	added       *prometheus.CounterVec // of out: records a Committer added, per topic
	repart      *prometheus.CounterVec // committed forwards to the repartition topic per input topic
	dead        *prometheus.CounterVec // dead letters per input topic and reason
	lag         *prometheus.GaugeVec   // per input topic and partition
	commit      prometheus.Histogram   // seconds to end a committing transaction
	txns        *prometheus.CounterVec // transactions by result
	keys, bytes prometheus.Gauge       // state size
	restore     prometheus.Histogram   // seconds to restore partitions
	restored    prometheus.Counter     // changelog records read while restoring
	partitions  prometheus.Gauge       // partitions owned
	renewals    prometheus.Counter     // clients replaced after a transaction timed out (renew.go)
}

func newMetrics(name string, reg prometheus.Registerer) *metrics {
	cl := prometheus.Labels{"consumer": name}
	m := &metrics{
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_records_in_total",
			Help: "Input records processed in committed transactions.", ConstLabels: cl}, []string{"topic"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_records_out_total",
			Help: "Records written in committed transactions (outputs, changelog, dead letters).", ConstLabels: cl}, []string{"topic"}),
		added: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_committer_records_total",
			Help: "Of records_out_total: records the Committer added just before commit (the ledger's progress markers), in committed transactions. Their number follows how the input was cut into transactions, so it differs between runs over the same input; records_out_total minus this is what the handler wrote.", ConstLabels: cl}, []string{"topic"}),
		repart: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_repartitioned_total",
			Help: "Input records forwarded to the repartition topic in committed transactions (their key is not on the murmur2 partition they were read from), by input topic.", ConstLabels: cl}, []string{"topic"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_dead_letters_total",
			Help: "Input records dead-lettered in committed transactions, by reason.", ConstLabels: cl}, []string{"topic", "reason"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "taskole_stream_consumer_lag",
			Help: "Records between the last processed offset and the high watermark.", ConstLabels: cl}, []string{"topic", "partition"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "taskole_stream_txn_commit_seconds",
			Help: "Latency of ending a committing transaction (flush, offsets, EndTxn).", ConstLabels: cl,
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 12)}),
		txns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_transactions_total",
			Help: "Ended transactions by result (committed, aborted).", ConstLabels: cl}, []string{"result"}),
		keys: prometheus.NewGauge(prometheus.GaugeOpts{Name: "taskole_stream_state_keys",
			Help: "Keys with state in memory over all owned partitions.", ConstLabels: cl}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "taskole_stream_state_bytes",
			Help: "Encoded size of the state in memory (changelog value bytes).", ConstLabels: cl}),
		restore: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "taskole_stream_restore_seconds",
			Help: "Time to restore partitions from the changelog.", ConstLabels: cl,
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		restored: prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_stream_restored_records_total",
			Help: "Changelog records read while restoring.", ConstLabels: cl}),
		partitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "taskole_stream_partitions",
			Help: "Input partitions owned (state restored).", ConstLabels: cl}),
		renewals: prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_stream_producer_renewals_total",
			Help: "Transactional clients replaced because a transaction outlived the transaction timeout and the broker aborted it.", ConstLabels: cl}),
	}
	if reg != nil {
		reg.MustRegister(m.in, m.out, m.added, m.repart, m.dead, m.lag, m.commit, m.txns, m.keys, m.bytes, m.restore, m.restored, m.partitions, m.renewals)
	}
	return m
}

func itoa32(n int32) string { return strconv.FormatInt(int64(n), 10) }
