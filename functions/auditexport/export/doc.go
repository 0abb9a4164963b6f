// Package export is the audit-log export (function auditexport): every run
// copies the OpenAI audit events that appeared since the last run to S3,
// exactly once, and seals what it wrote with a digest in a hash chain that
// package verify checks.
//
// # What a run does
//
// A run reads the checkpoint (package checkpoint), finishes a generation
// left open by a run that ended early, then works through at most three
// jobs, each only if the one before finished: the job left in the
// checkpoint, a requested backfill ([Since, Until) minus what is already
// covered), and the incremental job: [End-Lookback, now], where End is where
// the covered ranges end. A backfill first finds where its events are (a
// few one-event list calls, see narrow), so that an early --since does not
// spread its slices over empty years. A job's ranges are cut into time
// slices (per scope:
// the organization's events, and tenant-scoped events, which the API lists
// only with tenant_only=true), paged newest first by SliceConcurrency
// workers with one page of read-ahead each. Each worker streams its events
// into gzip JSON Lines objects (package objects) in the partition of the
// events' UTC day (package layout), rolling over at a new day, at
// RolloverBytes or RolloverEvents. The run ends by sealing its generation:
// the digest (package digest) lists every object the generation wrote.
//
// A run stops early, cleanly, near the Lambda deadline or when asked (the
// CLI's first Ctrl-C): open objects are finished and recorded, the
// generation is sealed, and the next run continues the job.
//
// # Exactly once: the argument
//
// Terms. A generation is one run's output; it is open until its digest is
// written. A key is announced when a checkpoint version listing it in
// open.writing is durable, and recorded when one lists it in open.objects
// with its SHA-256, count, effective_at range and last id.
//
// (1) The checkpoint's history is a line. Every checkpoint write is
// conditional on the ETag of the version the writer last saw (If-None-Match:
// * for the first). Of two writes based on the same version S3 applies one;
// the other writer gets ErrConflict, recognises its own earlier success by
// the write id stored in the document (a retried write whose first attempt
// landed), and otherwise stops with ErrLostCheckpoint without writing
// anything more: no object, no digest. Overlapping runs therefore never both
// advance the checkpoint; reserved concurrency 1 and a lease (renewed while
// a run works; another run waits until it expires) keep them from trying.
//
// (2) No object without a digest. A worker writes a key only after the
// version announcing it is durable, and writes only the key it announced.
// Every object in the bucket is thus listed in a sealed digest or announced
// or recorded in the checkpoint's open generation. Data objects are written
// with If-None-Match: *, so a key holds at most one object, ever, and is
// never overwritten. Before a generation is sealed, every announced key is
// settled: an object found there is adopted only when it has the SHA-256
// the intent recorded before the upload (read back: count, ids, last id);
// an empty key is fenced with an empty object, so that the run that
// announced it (stalled, not dead) cannot write it later. Anything else at
// an announced key is foreign: listed apart in the digest, never sealed as
// export content, and the object goes to a new key. Whoever loses the
// If-None-Match race reads back what won. The export checks once per
// container that the buckets honour If-None-Match and If-Match, and refuses
// to run otherwise. So after
// sealing, each object in the bucket is in exactly one digest, and nothing
// ever needs deleting: the export role has no s3:DeleteObject and Object
// Lock forbids it anyway.
//
// (3) No event twice. Within a slice, pages follow the API's id cursor, so
// each event comes once; the slice's cursor advances only to the last event
// of a recorded object, in the same checkpoint version that records it. A
// run that resumes the slice continues right after the last recorded
// object; an adopted object is exactly the one the slice meant to write, so
// the cursor moves past it as if the upload had just succeeded. Slices of a job have disjoint effective_at ranges
// per scope, and the scopes are disjoint. Across jobs, a backfill exports
// only the gaps of the covered ranges, and the incremental job overlaps
// earlier exports only inside its lookback window, where each event id is
// checked against the ids read back from the objects that may hold events
// of that window (checkpoint.recent, kept until no future window reaches
// them: below the end of the covered ranges and of the job in progress, so
// the incremental job of a run dedupes against its own backfill's --until
// window too). Memory for those ids is bounded by the events of one window, not by
// the export's size.
//
// (4) No gaps. The covered ranges grow only when every slice of a job is
// done. The next incremental job starts Lookback before where they end, so
// an event that becomes visible up to Lookback after its effective_at is
// still read. A late, failed or skipped run leaves the end where it was:
// the next run covers everything since, sliced like a backfill when it is
// long. An interrupted job stays in the checkpoint and is resumed first.
//
// A lost checkpoint over an existing export is never a fresh start (which
// would reuse generation 1's names): the run refuses, and on request
// rebuilds the checkpoint from the digest chain, every link checked.
//
// (5) Digests. Sealing first fixes the digest's content in the checkpoint
// (open.sealed), then writes the digest with If-None-Match (finding the same
// bytes there is success), then closes the generation. A run that crashes
// anywhere in between leaves enough for the next run to write the same bytes.
// Each digest names its predecessor's SHA-256, and the checkpoint keeps the
// newest digest's, so a deleted newest digest is noticed too.
//
// The crash tests stop the process at every S3 write of a backfill and an
// incremental run, before and after the write lands, with 10% 429s, 5% 5xx
// and 2% connection resets on the API, and check that a rerun converges to
// the emulator's exact set of events and that verify passes. Other tests
// stall a run past its lease while another takes over, and run two at once.
//
// Limits. An event that becomes visible more than Lookback late is not
// re-read: choose Lookback generously (it costs one more page per 100 events
// in the window, per run). Digests are hash-chained, not signed: someone who
// can rewrite the whole bucket and the checkpoint can rewrite the chain;
// Object Lock on the bucket (the stack's) is what prevents that.
//
// # Streaming and memory
//
// Each worker holds one open object: a gzip writer streaming into a spool
// file in /tmp, hashed as it is written. Closing the object uploads the
// file with feature/s3/manager: one PutObject up to 5 MiB, a multipart
// upload above, its parts read as sections of the file, never copied into
// memory. The export's memory is therefore the same for ten thousand or a
// million events and for any object size (the benchmarks: a peak heap of
// about 27 MiB, live heap 14 MiB, at 100k and 1M events); /tmp needs room
// for SliceConcurrency objects (RolloverBytes compresses about eight times).
//
// Why feature/s3/manager, deprecated in favour of feature/s3/transfermanager:
// transfermanager v0.5.4 reads the first part of every upload (up to its
// part size) into memory, and for a multipart upload allocates Concurrency+1
// more part buffers, even when the body is a file: 15 MiB per open object,
// over 100 MiB for eight workers at high event density. The manager reads a
// file's parts in place, and passes If-None-Match to both PutObject and
// CompleteMultipartUpload, which the conditional-write tests check. Both are
// pinned in go.mod; the one use is in objects/upload.go.
//
// Checkpoint writes are group commits: while one is in flight, other
// workers' intents and records queue up and the next write carries them all;
// each worker still proceeds only once its own change is durable.
package export
