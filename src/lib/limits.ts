/**
 * Every queue, buffer, batch and concurrency level has a named maximum here (TigerStyle: "put a
 * limit on everything"). Units are last in the names.
 */
export const limits = {
  /** Largest shard (one segment record payload). Object bodies are cut into shards of this size. */
  shardBytesMax: 4 * 1024 * 1024,
  /** Bytes of headroom kept under the NATS max_payload for headers when shards travel over NATS. */
  natsPayloadHeadroomBytes: 64 * 1024,
  /** Objects up to this size are carried inside their ObjectVersionPut event instead of shards. */
  inlineBytesMax: 4096,
  /** Shard writes of one PUT in flight at once (pipelining between body reading and node fsync). */
  shardWritesInFlightMax: 2,
  /**
   * Digest workers (worker_threads hashing MD5, SHA-256 and the flexible checksum off the event
   * loop): at most this many; by default the cores minus one (the event loop's), but at least
   * two, so that one body's MD5 does not queue behind another's (lib/digest-pool.ts).
   */
  digestWorkersMax: 4,
  /** Shared shard buffers (SharedArrayBuffer-backed, read by the digest workers without a copy), in bytes. */
  digestBufferPoolBytesMax: 64 * 1024 * 1024,
  /** Reused storage read buffers (lib/read-buffers.ts), in bytes; reads beyond allocate as before. */
  readBufferPoolBytesMax: 32 * 1024 * 1024,
  /**
   * Bytes of a body gathered before they are handed to the digest workers. Fewer, larger messages
   * cost less, but MD5 (~450 MiB/s on one core here) is slower than a body arrives over loopback,
   * and whatever is still unhashed when the body ends delays its commit. (Measured when the shard
   * crc32s still ran on workers: with 512 KiB steps a 1 MiB PUT's last shard write started ~3 ms
   * after its body ended, with 128 KiB steps 1–1.5 ms.)
   */
  digestStepBytes: 128 * 1024,
  /** Bodies shorter than this are hashed on the event loop: a worker round trip costs more than it saves. */
  digestOffloadBytesMin: 128 * 1024,
  /**
   * Records this large and up are read into a reused buffer (lib/read-buffers.ts) when one is
   * free, smaller ones into a fresh allocation. (This used to be decided by digestOffloadBytesMin,
   * a limit named for something else; the value is unchanged.)
   */
  readBufferLendBytesMin: 128 * 1024,
  /** Largest single PUT body (S3's limit for a single PutObject). */
  objectBytesMax: 5 * 1024 * 1024 * 1024,
  /** Largest source of a CopyObject, and largest range one UploadPartCopy copies (S3's limits, 5 GiB). */
  copySourceBytesMax: 5 * 1024 * 1024 * 1024,
  /** XML request bodies (DeleteObjects, CreateBucketConfiguration, ...) are buffered up to this. */
  xmlBodyBytesMax: 2 * 1024 * 1024,
  /** Keys in one DeleteObjects request (S3's limit). */
  deleteObjectsKeysMax: 1000,
  /** Highest part number, and so most parts in one multipart upload (S3's limit). */
  multipartPartsMax: 10_000,
  /** GET bodies larger than one shard streaming at once per gateway (src/s3/large-gets.ts). */
  largeGetBodiesInFlightMax: 2,
  /** Smallest part of a multipart upload, except the last (S3's limit). */
  multipartPartBytesMin: 5 * 1024 * 1024,
  /** Largest object a multipart upload can complete (S3's limit, 5 TiB). */
  multipartObjectBytesMax: 5 * 1024 * 1024 * 1024 * 1024,
  /** Parts in one ListParts page and uploads in one ListMultipartUploads page (S3's limits). */
  listPartsMax: 1000,
  listUploadsMax: 1000,
  /** Keys in one listing page (S3's limit). */
  listKeysMax: 1000,
  /** Longest object key in UTF-8 bytes (S3's limit). */
  keyBytesMax: 1024,
  /** Total bytes of user metadata headers (S3's limit is 2 KiB). */
  userMetadataBytesMax: 2048,
  /** aws-chunked: largest chunk we accept (bounded memory while verifying a chunk signature). */
  awsChunkBytesMax: 16 * 1024 * 1024,
  /** aws-chunked: longest chunk header or trailer line. */
  awsChunkLineBytesMax: 4096,
  /** aws-chunked: trailing header lines after the final chunk (a checksum and its signature in practice). */
  awsChunkTrailerLinesMax: 16,
  /** Clock skew tolerated by SigV4 before RequestTimeTooSkewed. */
  clockSkewMs: 15 * 60 * 1000,
  /** SigV4 signing keys cached per (secret, date, region); one per access key per day in practice. */
  sigv4SigningKeyCacheEntriesMax: 256,
  /** CRC combine: shift operators x^(8·len) mod P cached per polynomial, by part length. */
  crcCombineCacheEntriesMax: 64,
  /** Longest presigned URL lifetime (7 days, as AWS). */
  presignExpirySecondsMax: 7 * 24 * 3600,
  /** Events the projector pulls from JetStream per batch (bounded pull). */
  projectorBatchMax: 512,
  /** Events per batch (pull window and LMDB transaction) when rebuilding a model by replay. */
  rebuildBatchMax: 2048,
  /** Payload bytes of one batch a replay worker hands over (a batch may exceed it by one message). */
  replayBatchBytesMax: 4 * 1024 * 1024,
  /** Batches a replay worker has handed over and the reader has not released. */
  replayBatchesInFlightMax: 2,
  /** How long closing a replay reader waits for its worker to exit before terminating it. */
  replayWorkerStopWaitMs: 5_000,
  /** Events applied in one LMDB transaction. */
  projectorTxnEventsMax: 512,
  /** How long a write waits for the local projector to apply its event before failing. */
  projectionWaitMs: 30_000,
  /** Shutdown: longest wait for a node registry key listing in flight. */
  nodeDirectoryStopWaitMs: 5_000,
  /** Shutdown: a stop step still running after this long is reported (and again every period). */
  stopStepReportMs: 10_000,
  /** Concurrent HTTP requests the gateway serves before answering SlowDown. */
  gatewayRequestsInFlightMax: 1024,
  /** Publish attempts for one event (JetStream may be briefly unavailable). */
  publishAttemptsMax: 3,
  /** NATS request timeout for storage node calls. */
  nodeRequestTimeoutMs: 30_000,
  /**
   * Timeout of a request to the log through log/request-mux.ts, as nats.js's JetStream default: a
   * read fence's last-sequence lookup, and one publish attempt (limits.publishAttemptsMax of them,
   * the same message id each time).
   */
  logRequestTimeoutMs: 5_000,
  /**
   * Log requests waiting for a reply at once: at most two lookups per S3 read and one publish per
   * write, requests being capped by gatewayRequestsInFlightMax.
   */
  muxRequestsPendingMax: 4096,
  /** Concurrent requests one storage node serves over NATS. */
  nodeRequestsInFlightMax: 64,
  /** Group commit: longest wait before an fsync is issued for waiting appends. */
  groupCommitDelayMs: 0,
  /** Segment size after which a segment is sealed and a new one opened. */
  segmentBytesMax: 512 * 1024 * 1024,
  /**
   * Records coalesced into one segment writev (below the kernel's IOV_MAX of 1024 buffers). Also
   * the cohort of group commit's pipeline: one batch is written while the previous one syncs.
   */
  segmentWriteBatchRecordsMax: 32,
  /** Bytes coalesced into one segment writev. */
  segmentWriteBatchBytesMax: 8 * 1024 * 1024,
  /** Appends queued behind the single segment writer before a node answers overloaded. */
  segmentAppendsQueuedMax: 1024,
  /** Read file handles a storage node keeps open across segments (LRU). */
  segmentReadFdsMax: 64,
  /** Written shards waiting for their index commit before an append waits for a sync (and the commit). */
  indexPendingEntriesMax: 4096,
  /** Durable shards waiting for the index that start an index commit (below indexPendingEntriesMax). */
  indexCommitEntriesMin: 1024,
  /** Longest a durable shard waits for its index commit when fewer than indexCommitEntriesMin wait. */
  indexCommitDelayMs: 100,
  /** Index entries recovery commits per LMDB transaction while scanning segments. */
  recoveryIndexBatchMax: 4096,
  /** Read-ahead window of the recovery scan (raised to one whole record when smaller). */
  recoveryReadBytes: 8 * 1024 * 1024,
  /** Storage liveness: a shard no committed version references is reclaimable this long after it was written or released. */
  shardGraceMs: 60 * 60 * 1000,
  /** Events the storage liveness follower pulls and applies per batch. */
  livenessBatchMax: 512,
  /**
   * Storage liveness: how long the follower lets events gather before applying them. No request
   * waits for liveness (compaction and repair read it), and in the embedded mode its commit of
   * an event otherwise runs at the moment the gateway's projector commits the same event.
   */
  livenessApplyLingerMs: 20,
  /** Compaction: a sealed segment is compacted once this share of its bytes is dead. */
  compactionDeadRatioMin: 0.5,
  /** Compaction: bytes of victim segments taken in one run (bounds one run's duration). */
  compactionRunBytesMax: 8 * 1024 * 1024 * 1024,
  /**
   * Compaction: index entries scanned between two yields to the event loop (an entry costs a
   * few µs with its liveness lookup; a run over 100,000 shards held the event loop for 765 ms).
   */
  compactionScanYieldEvery: 1024,
  /** Compaction: how often a node looks for segments to compact. */
  compactionIntervalMs: 10 * 60 * 1000,
  /** Scrubber: bytes per second verified in the background. */
  scrubBytesPerSec: 16 * 1024 * 1024,
  /** Scrubber: pause between two full passes over a node's records. */
  scrubPassIntervalMs: 60 * 60 * 1000,
  /** Re-replication: how often a node checks it holds every shard it is ranked for. */
  repairIntervalMs: 60 * 1000,
  /**
   * Re-replication: shards checked between two yields to the event loop. A check costs ~15 µs
   * (the ranking, an index lookup); a pass over 100,000 shards that never yielded held a node's
   * event loop (and, embedded, the gateway's) for 1.5 s every repairIntervalMs.
   */
  repairPassYieldEvery: 256,
  /** Node registry: heartbeat period, and how long a node stays live after its last heartbeat. */
  nodeHeartbeatMs: 2_000,
  nodeLivenessTtlMs: 10_000,
  /** Replication factor for STANDARD when at least that many nodes are live. */
  replicationFactorMax: 3,
  /** Timeout of one replica read before the reader tries the next replica. */
  replicaReadTimeoutMs: 5_000,
} as const;

export type Limits = typeof limits;
