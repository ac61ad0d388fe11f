/**
 * The V8 flags the stats-exporter needs to stay under 80 MB RSS while scraped (measured by
 * bench/stats-exporter): a 1 MB young generation instead of 16 MB per semi-space, and an old
 * generation sized for memory. Node.js refuses `--optimize-for-size` in NODE_OPTIONS and V8 sizes
 * its heap at start, so they go on `node`'s command line: every manifest in deploy/ runs the
 * exporter's container as `node <flags> /usr/local/bin/quayside stats-exporter`, and only that agent
 * (the others, the logrouter above all, keep V8's defaults for throughput).
 */
export const STATS_EXPORTER_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'] as const;

/** The container entrypoint that runs the image's `quayside` command with those flags. */
export const STATS_EXPORTER_ENTRYPOINT = ['node', ...STATS_EXPORTER_NODE_FLAGS, '/usr/local/bin/quayside'] as const;

/**
 * glibc's malloc setting for the exporter's container: a fixed mmap threshold, so each scrape's
 * megabyte-sized buffers are mapped and handed back to the system when freed. By default glibc
 * raises the threshold at the first such free and serves the next ones from a heap that grew from
 * 4 to about 20 MB and did not shrink. Measured by bench/stats-exporter (peak RSS on Node.js 24
 * about 15 MB lower; two malloc arenas on top changed nothing). glibc reads it at start, so every
 * manifest in deploy/ sets it in the exporter's environment.
 */
export const STATS_EXPORTER_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' } as const;
