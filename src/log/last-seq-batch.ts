/**
 * Coalesces last-sequence lookups (the read fence's questions to JetStream) asked in one turn of
 * the event loop: each subject is looked up once per turn, and every lookup of the turn goes out
 * together when the turn ends (`schedule`, setImmediate in the gateway), so the NATS client writes
 * them with one syscall. Concurrent GETs of one bucket all ask for the bucket subject's last
 * sequence; without this each asked JetStream on its own (two direct gets per GET).
 *
 * Why sharing is safe: a fence needs a sequence read after it was asked for, so that it covers
 * every event acknowledged before the read arrived. A caller only ever joins a lookup that has not
 * been sent yet; the lookup goes out after every caller that joined it asked. A caller that comes
 * once a turn's lookups are on their way starts the next turn's.
 *
 * Bounded: at most one pending entry per distinct subject asked in one turn, and the number of
 * requests in flight is bounded by the callers (the gateway's in-flight request limit) and by the
 * request mux's own limit.
 */
export class LastSeqBatch {
  private waiting = new Map<string, { readonly resolve: (seq: number) => void; readonly reject: (err: unknown) => void; readonly promise: Promise<number> }>();
  private scheduled = false;

  constructor(
    /** Looks one subject up now. */
    private readonly lookup: (subject: string) => Promise<number>,
    /** Runs its callback once the current turn's callers have all asked. */
    private readonly schedule: (run: () => void) => void = (run) => void setImmediate(run),
  ) {}

  /** The last sequence on `subject`, read after this call. */
  lastSubjectSeq(subject: string): Promise<number> {
    const joined = this.waiting.get(subject);
    if (joined !== undefined) return joined.promise;
    let resolve!: (seq: number) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<number>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiting.set(subject, { resolve, reject, promise });
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.send());
    }
    return promise;
  }

  private send(): void {
    const batch = this.waiting;
    this.waiting = new Map();
    this.scheduled = false;
    for (const [subject, w] of batch) {
      let sent: Promise<number>;
      try {
        sent = this.lookup(subject);
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(w.resolve, w.reject);
    }
  }
}
