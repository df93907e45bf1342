/// Grafana's PostgreSQL macros, expanded as Grafana expands them, so that the panels of
/// `ops/grafana/dashboards/radstream.json` can be run without Grafana: by the tests (every
/// panel against a real stream's database) and by `benchmark dashboard` (under EXPLAIN ANALYZE).
public enum GrafanaMacros {
    /// `sql` with `$__timeFilter(column)` as the last `range` (a PostgreSQL interval, e.g.
    /// `7 days`), and `$__timeGroup(column, '5m')` / `$__timeGroupAlias(column, '5m')` as
    /// Grafana's epoch buckets.
    public static func expand(_ sql: String, range: String = "7 days") -> String {
        sql.replacing(/\$__timeGroup(Alias)?\(\s*([a-z_]+)\s*,\s*'(\d+)([smhd])'\s*\)/) { match in
            let unit: Int = switch match.output.4 { case "s": 1; case "m": 60; case "h": 3600; default: 86400 }
            let seconds = (Int(match.output.3) ?? 1) * unit
            let bucket = "floor(extract(epoch from \(match.output.2))/\(seconds))*\(seconds)"
            return match.output.1 == nil ? bucket : "\(bucket) AS \"time\""
        }
        .replacing(/\$__timeFilter\(\s*([a-z_]+)\s*\)/) { match in
            "\(match.output.1) BETWEEN now() - interval '\(range)' AND now() + interval '1 minute'"
        }
    }
}
