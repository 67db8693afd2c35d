// Package stream is the exactly-once processing framework of the Taskole consumers: a
// Processor consumes co-partitioned input topics in one consumer group, keeps per-key state
// per input partition in memory, mirrors it to a compacted changelog topic, and commits
// outputs, changelog writes and input offsets in one Kafka transaction (franz-go
// GroupTransactSession, read_committed, RequireStableFetchOffsets).
//
// # Guarantees
//
//   - A transaction is open for at most Config.CommitInterval (default 500ms) or
//     Config.MaxBatchRecords input records; committing writes every key changed in it to the
//     changelog (partition = input partition; an empty state is a tombstone).
//   - When partitions are assigned, their state is restored from the changelog (read committed,
//     from the start to the end, after any open transaction on it has ended) before any of
//     their records is handled; this runs in kgo's AdjustFetchOffsetsFn, i.e. after the
//     group's committed offsets are stable. Revoked or lost partitions are dropped.
//     With Config.LazyRestore the restore keeps each key's last changelog value as bytes,
//     decoded on the key's first access or at the next sweep; a value that does not decode
//     stops Run either way.
//   - Run initializes the producer ID before anything else: that fences a predecessor with
//     the same transactional ID and aborts its open transaction at once, rather than after
//     the transaction timeout the restore would otherwise wait for.
//   - An aborted transaction (rebalance, failed EndTxn, produce error, retryable handler
//     error) rolls the state of the partitions it touched back to the changelog, and the
//     session rewinds to the committed offsets: the records are handled again, against the
//     state they were first handled against. So outputs are neither lost nor doubled.
//   - Poison records (Classify → Poison) become a schemas.DeadLetter on Config.DLQ in the same
//     transaction, keyed as received; processing goes on; a metric counts them by reason.
//   - Errors are classified once by Classify: Retryable, Poison, Fatal.
//   - With Config.Repartition, the inputs are co-partitioned by key whatever partitioner
//     their producers used: a record not on KeyPartition(key) (Kafka's murmur2) is forwarded
//     to that partition of the repartition topic in the open transaction and handled when
//     read back, as the record it came from (repartition.go); the rest is handled directly.
//   - The inputs of one partition number (and its repartition partition) are merged
//     deterministically (merge.go, in the spirit of Kafka Streams' PartitionGroup): records are
//     buffered per topic partition and the handler always gets the buffered head with the
//     smallest Config.Timestamp (ties: input order, original partition, original offset); while
//     an input's buffer is empty the partition waits for it unless it is fetched to its last
//     stable offset (then, live, up to Config.MaxTaskIdle more). A backlog or a replay is thus
//     handled in the same order at any speed and with any number of instances. A transaction
//     commits the offsets of the records it handed, never of merely buffered ones; fetching a
//     partition pauses at Config.MaxBufferedRecords buffered.
//   - Partition assignment is cooperative (KIP-429) and sticky, and gives partition i of every
//     input to the same member (balancer.go); EnsureTopics refuses co-partitioned topics whose
//     counts differ. A rebalance revokes only the partitions that move: the other partitions
//     keep their state and keep committing, and only the moved ones are restored.
//   - Membership is static (Config.InstanceID, default the transactional id): an instance
//     restarted under the same name rejoins with its partitions at once, and fences its
//     predecessor's transaction; LeaveOnClose makes a shutdown hand its partitions over now.
//
// # Binding a consumer
//
// Implement Handler[S] for a state type S (the zero S is a new key):
//
//	type handler struct{ ... }
//	func (h *handler) Handle(ctx context.Context, rec *kgo.Record, tx *stream.Tx[S]) error {
//		ev, err := schemas.DecodeX(rec.Value)
//		if err != nil {
//			return fmt.Errorf("decoding x: %w", err) // *schemas.InvalidError: poison
//		}
//		s := tx.State(ev.Key)        // marked changed, written to the changelog at commit
//		tx.Advance(ev.OccurredAt)    // optional event-time watermark, persisted
//		tx.Produce(&kgo.Record{Topic: out, Key: k, Value: v})
//		return nil
//	}
//	func (h *handler) AppendState(dst []byte, s *S) ([]byte, error)
//	func (h *handler) UnmarshalState(s *S, data []byte) error
//	func (h *handler) EmptyState(s *S) bool
//
// then EnsureTopics, New(Config{...}, h), Run(ctx) and Close. Handle runs on one goroutine;
// it must not keep tx or state pointers past the call, and must leave state unchanged when it
// returns a poison error. A handler that also implements Sweeper gets called to prune state
// whenever a partition's watermark moves Config.SweepEvery. Tx.Meta and Tx.SetMeta keep small
// per-partition metadata beside the keyed states (changelog, restore, rollback alike); a
// handler that also implements Committer sees the metadata a transaction set just before it
// commits and may add records to it on partitions it names (the ledger's progress markers).
package stream
