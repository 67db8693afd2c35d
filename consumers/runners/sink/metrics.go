package sink

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	inserted     *prometheus.CounterVec
	dead         *prometheus.CounterVec
	errors       *prometheus.CounterVec
	skipped      prometheus.Counter
	buffered     prometheus.Gauge
	paused       prometheus.Gauge
	flushSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		inserted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskole_sink_rows_inserted_total", Help: "Rows inserted into ClickHouse, per raw table.",
		}, []string{"table"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskole_sink_dead_letters_total", Help: "Records the sink could not store and wrote to the dlq table, per topic and reason.",
		}, []string{"topic", "reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskole_sink_clickhouse_errors_total", Help: "ClickHouse errors, per class (retryable, fatal).",
		}, []string{"class"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskole_sink_records_skipped_total", Help: "Records skipped: already in ClickHouse on resume, or ledger progress markers (not ledger entries).",
		}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "taskole_sink_buffered_rows", Help: "Rows waiting for the next insert.",
		}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "taskole_sink_paused", Help: "1 while fetching is paused because ClickHouse is unavailable.",
		}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "taskole_sink_flush_seconds", Help: "Time to insert one batch into every table.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.inserted, m.dead, m.errors, m.skipped, m.buffered, m.paused, m.flushSeconds)
	}
	return m
}
