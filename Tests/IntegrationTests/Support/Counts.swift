import Postgres

/// What the daemon has written to one test database.
struct Counts: Equatable, CustomStringConvertible {
    var images = 0, reports = 0, deadLetters = 0
    var distinctEvents = 0
    var total: Int { images + reports + deadLetters }

    static func read(_ conninfo: String) throws -> Counts {
        let connection = try PostgresConnection(conninfo)
        let row = try connection.execute("""
            SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM reports), (SELECT count(*) FROM dead_letters),
                   (SELECT count(DISTINCT event_id) FROM (SELECT event_id FROM images UNION ALL SELECT event_id FROM reports) AS e)
            """).rows[0].map { Int($0 ?? "0") ?? 0 }
        return Counts(images: row[0], reports: row[1], deadLetters: row[2], distinctEvents: row[3])
    }

    var description: String { "\(images) images, \(reports) reports, \(deadLetters) dead letters, \(distinctEvents) distinct events" }
}
