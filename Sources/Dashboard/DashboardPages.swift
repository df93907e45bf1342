import Foundation
import Postgres

/// The pages, each read from the views and rendered in one pass.
enum DashboardPages {
    static let week = "now() - interval '7 days'"

    static func overview(_ store: DashboardStore) async throws -> String {
        try await store.read { database in
            // The charts read the views of raw rows over the last 7 days (the time indexes cut the
            // range before anything is grouped), in steps fine enough for the span the data has:
            // a stream an hour old is charted by the minute, a week of it by the hour.
            let span = try database.execute("SELECT extract(epoch FROM now() - min(at)) FROM dashboard.events WHERE at >= \(week)")
                .scalar.flatMap(Double.init) ?? 0
            let step = ChartStep.fitting(span: span)
            let bin = "date_bin('\(step.interval)', at, timestamptz '2000-01-01')"
            let events = DashboardRows.series(try database.execute("""
                SELECT extract(epoch FROM \(bin)), kind, count(*) FROM dashboard.events WHERE at >= \(week) GROUP BY 1, 2 ORDER BY 1
                """))
            let deadLetters = DashboardRows.series(try database.execute("""
                SELECT extract(epoch FROM date_bin('\(step.interval)', created_at, timestamptz '2000-01-01')), error_code, count(*)
                FROM dashboard.dead_letters WHERE created_at >= \(week) GROUP BY 1, 2 ORDER BY 1
                """))
            let positive = DashboardRows.series(try database.execute("""
                SELECT extract(epoch FROM \(bin)), model || ' ' || model_version,
                       avg((decision = 'pneumonia')::integer) FILTER (WHERE applicable IS DISTINCT FROM false)
                FROM dashboard.image_decisions WHERE model = 'pneumonia' AND at >= \(week)
                GROUP BY 1, 2 ORDER BY 1  -- a step with no applicable film has no rate (NULL, not drawn)
                """))
            // Each partition's largest sample in a step, summed over the partitions of a topic.
            let lag = DashboardRows.series(try database.execute("""
                SELECT extract(epoch FROM step), series, sum(lag) FROM (
                    SELECT \(bin) AS step, consumer_group || ' ' || topic AS series, kafka_partition, max(lag) AS lag
                    FROM dashboard.consumer_lag WHERE at >= \(week) GROUP BY 1, 2, 3
                ) per_partition GROUP BY 1, 2 ORDER BY 1
                """))
            let totals = try database.execute("SELECT kind, count(*) FROM dashboard.events GROUP BY kind ORDER BY kind").rows
            let served = try database.execute("""
                SELECT model, version, origin, auc, accuracy, gated, created_at FROM dashboard.model_versions
                WHERE status = 'active' ORDER BY model
                """).rows
            let body = """
                <p>\(totals.map { "\(HTML.escape($0[1] ?? "0")) \(HTML.escape($0[0] ?? "")) events" }.joined(separator: " · "))</p>
                <h2>Events per \(step.name), last 7 days</h2>\(SVGChart(series: events, valueLabel: "events").svg)
                <h2>Records waiting in Kafka (consumer lag), the most per \(step.name)</h2>
                <p>Sampled by each daemon every <code>kafka.lagRecordSeconds</code>; the live figure is <code>radstream_consumer_lag</code> on its <code>/metrics</code>.</p>
                \(SVGChart(series: lag, valueLabel: "records").svg)
                <h2>Dead letters per \(step.name), by code</h2>\(SVGChart(series: deadLetters, valueLabel: "dead letters").svg)
                <h2>Pneumonia positive rate per \(step.name), by model version</h2>
                <p>The share of the films its applicability gate let through that the model calls pneumonia.</p>
                \(SVGChart(series: positive, valueLabel: "share").svg)
                <h2>Served model versions</h2>
                \(HTML.table(header: ["model", "version", "origin", "AUC", "accuracy", "gated", "since"],
                             rows: served.map { row in row.enumerated().map { $0.offset == 5 ? ($0.element == "t" ? "yes" : "no") : HTML.escape(Self.short($0.element)) } }))
                """
            return HTML.page(title: "Overview", path: "/", body: body)
        }
    }

    static func studies(_ store: DashboardStore, filter: StudyList.Filter) async throws -> String {
        guard filter.hasValidDates else {
            return HTML.page(title: "Studies", path: "/studies", body: "<p>Dates are written YYYY-MM-DD.</p>")
        }
        return try await store.read { database in
            let (rows, truncated) = try StudyList(filter: filter).newest(on: database)
            let versions = try database.execute("""
                SELECT model || ' ' || version FROM dashboard.model_versions ORDER BY 1
                """).rows.compactMap { $0[0] }
            func option(_ value: String, _ label: String, _ chosen: String?) -> String {
                "<option value=\"\(HTML.escape(value))\"\(chosen == value ? " selected" : "")>\(HTML.escape(label))</option>"
            }
            let form = """
                <form method="get" action="/studies">
                <label>disagreement <select name="disagreement">\(option("", "all studies", filter.disagreement))\(option("any", "any", filter.disagreement))\(option("report-image", "report and image", filter.disagreement))\(option("summarizer", "summarizer", filter.disagreement))</select></label>
                <label>finding <select name="finding">\(option("", "any", filter.finding))\(option("pneumonia", "pneumonia called", filter.finding))</select></label>
                <label>from <input name="from" type="date" value="\(HTML.escape(filter.from ?? ""))"></label>
                <label>to <input name="to" type="date" value="\(HTML.escape(filter.to ?? ""))"></label>
                <label>model version <select name="version">\(option("", "any", filter.version))\(versions.map { option($0, $0, filter.version) }.joined())</select></label>
                <button type="submit">show</button></form>
                """
            let table = HTML.table(header: ["study", "last seen", "first seen", "images", "reports", "pneumonia called",
                                            "report and image disagree", "summarizer disagrees", "model versions"],
                                   rows: rows.map { row in
                                       ["<a href=\"/studies/\(Self.pathComponent(row.studyID))\">\(HTML.escape(row.studyID))</a>",
                                        HTML.escape(Self.short(row.lastSeen)), HTML.escape(Self.short(row.firstSeen)), String(row.images),
                                        String(row.reports), HTML.flag(row.pneumoniaCalled), HTML.flag(row.reportImageDisagree),
                                        HTML.flag(row.summarizerDisagrees), HTML.escape(row.modelVersions)]
                                   }, empty: "no study matches")
            let count = truncated
                ? "\(rows.count) studies among the newest \(StudyList.rowsWalkedAtMost) images and reports; narrow the dates to look further back"
                : "\(rows.count) studies, most recently active first (the newest \(StudyList.pageSize) at most)"
            return HTML.page(title: "Studies", path: "/studies", body: form + "<p>\(count)</p>" + table)
        }
    }

    static func study(_ store: DashboardStore, id: String) async throws -> String? {
        try await store.read { database in
            let reports = try database.execute("""
                SELECT report_id, processed_at, findings, impression, generated_impression, observations::text, disagreements::text
                FROM dashboard.reports WHERE study_id = $1 ORDER BY processed_at
                """, [.text(id)]).rows
            let films = try database.execute("""
                SELECT id, image_id, processed_at, captioner_impression, captioner_states_pneumonia FROM dashboard.films
                WHERE study_id = $1 ORDER BY processed_at
                """, [.text(id)]).rows
            guard !reports.isEmpty || !films.isEmpty else { return nil }
            var body = ""
            for report in reports {
                let observations = (try? JSONSerialization.jsonObject(with: Data((report[5] ?? "{}").utf8))) as? [String: String] ?? [:]
                body += """
                    <h2>Report \(HTML.escape(report[0] ?? ""))</h2>
                    <table><tbody>
                    <tr><th>radiologist's impression</th><td>\(HTML.escape(report[3] ?? "–"))</td></tr>
                    <tr><th>summarizer's impression (from the findings alone)</th><td>\(HTML.escape(report[4] ?? "–"))</td></tr>
                    <tr><th>the labeler reads them differently on</th><td>\(HTML.escape(Self.list(report[6])))</td></tr>
                    <tr><th>findings</th><td>\(HTML.escape(report[2] ?? "–"))</td></tr>
                    </tbody></table>
                    <h3>Observations (the labeler, on the whole report)</h3>
                    \(HTML.table(header: ["observation", "state"], rows: observations.keys.sorted().map { [HTML.escape($0), HTML.escape(observations[$0]!)] }))
                    """
            }
            for film in films {
                let imageID = film[0] ?? "0"
                let predictions = try database.execute("""
                    SELECT model, model_version, probabilities::text, decision, applicable, applicability FROM dashboard.predictions
                    WHERE image_id = $1 ORDER BY model
                    """, [.text(imageID)]).rows
                let counterfactuals = try database.execute("""
                    SELECT model, from_class, to_class, flipped, l1, probability_before, probability_after FROM dashboard.counterfactuals
                    WHERE image_id = $1 AND status = 'done' ORDER BY model
                    """, [.text(imageID)]).rows
                let discrepancy = try database.execute("""
                    SELECT image_model_disagrees, captioner_disagrees FROM dashboard.report_image_discrepancies WHERE image_id = $1 LIMIT 1
                    """, [.text(film[1] ?? "")]).rows.first
                var figures = "<figure><img alt=\"film\" src=\"/films/\(imageID).png\"><figcaption>the film as the models read it</figcaption></figure>"
                for prediction in predictions {
                    let model = prediction[0] ?? ""
                    figures += "<figure><img alt=\"Grad-CAM of \(HTML.escape(model))\" src=\"/films/\(imageID)/saliency/\(Self.pathComponent(model)).png\">"
                        + "<figcaption>\(HTML.escape(model)): where its call came from (Grad-CAM)</figcaption></figure>"
                }
                for counterfactual in counterfactuals {
                    let model = Self.pathComponent(counterfactual[0] ?? "")
                    figures += "<figure><img alt=\"counterfactual\" src=\"/films/\(imageID)/counterfactual/\(model).png\"><figcaption>the same film toward \(HTML.escape(counterfactual[2] ?? "")) (L1 \(HTML.escape(Self.short(counterfactual[4]))))</figcaption></figure>"
                        + "<figure><img alt=\"difference\" src=\"/films/\(imageID)/difference/\(model).png\"><figcaption>what changed: red brighter, blue darker</figcaption></figure>"
                }
                body += """
                    <h2>Film \(HTML.escape(film[1] ?? ""))</h2>
                    <div class="films">\(figures)</div>
                    <table><tbody>
                    <tr><th>captioner's impression (from the film)</th><td>\(HTML.escape(film[3] ?? "–"))</td></tr>
                    <tr><th>image model disagrees with the report on pneumonia</th><td>\(HTML.flag(discrepancy.map { $0[0] == "t" }))</td></tr>
                    <tr><th>captioner disagrees with the report on pneumonia</th><td>\(HTML.flag(discrepancy.map { $0[1] == "t" }))</td></tr>
                    </tbody></table>
                    \(HTML.table(header: ["model", "version", "probabilities", "decision", "fit to read this film", "applicability"],
                                 rows: predictions.map { row in
                                     [HTML.escape(row[0] ?? ""), HTML.escape(row[1] ?? ""), HTML.escape(row[2] ?? ""), HTML.escape(row[3] ?? ""),
                                      row[4] == nil ? "–" : (row[4] == "t" ? "yes" : "<span class=\"flag\">no</span>"), HTML.escape(Self.short(row[5]))]
                                 }))
                    """
            }
            return HTML.page(title: "Study \(id)", path: "/studies", body: body)
        }
    }

    static func models(_ store: DashboardStore) async throws -> String {
        try await store.read { database in
            let versions = try database.execute("""
                SELECT model, version, status, origin, parent_version, auc, accuracy, expected_calibration_error, gated, created_at
                FROM dashboard.model_versions ORDER BY model, created_at DESC
                """).rows
            let rounds = DashboardRows.series(try database.execute("""
                SELECT extract(epoch FROM finished_at), model || ' candidate', candidate_auc FROM dashboard.self_training_rounds
                WHERE candidate_auc IS NOT NULL
                UNION ALL
                SELECT extract(epoch FROM finished_at), model || ' served', teacher_auc FROM dashboard.self_training_rounds
                WHERE teacher_auc IS NOT NULL ORDER BY 1
                """))
            let roundRows = try database.execute("""
                SELECT id, model, finished_at, unlabeled_images, teacher_auc, candidate_auc, decision, reason
                FROM dashboard.self_training_rounds ORDER BY id DESC LIMIT 50
                """).rows
            let activations = try database.execute("""
                SELECT activated_at, model, version, previous_version, cause FROM dashboard.model_activations ORDER BY id DESC LIMIT 50
                """).rows
            let body = """
                <h2>Versions</h2>
                \(HTML.table(header: ["model", "version", "status", "origin", "parent", "AUC", "accuracy", "ECE", "gated", "registered"],
                             rows: versions.map { $0.map { HTML.escape(Self.short($0)) } }))
                <h2>Self-training rounds: AUC on the validation set</h2>
                \(SVGChart(series: rounds, valueLabel: "AUC").svg)
                \(HTML.table(header: ["round", "model", "finished", "unlabeled images", "served AUC", "candidate AUC", "decision", "why"],
                             rows: roundRows.map { $0.map { HTML.escape(Self.short($0)) } }, empty: "no self-training round yet"))
                <h2>Promotions and rollbacks</h2>
                \(HTML.table(header: ["when", "model", "version", "before", "cause"], rows: activations.map { $0.map { HTML.escape(Self.short($0)) } }))
                """
            return HTML.page(title: "Models", path: "/models", body: body)
        }
    }

    static func deadLetters(_ store: DashboardStore, code: String?) async throws -> String {
        try await store.read { database in
            let rows = try database.execute("""
                SELECT created_at, error_code, error, topic, kafka_partition, kafka_offset, payload_bytes, payload_sha256
                FROM dashboard.dead_letters WHERE $1::text IS NULL OR error_code = $1 ORDER BY created_at DESC, id DESC LIMIT 200
                """, [.optional(code.flatMap { $0.isEmpty ? nil : $0 })]).rows
            let codes = try database.execute("SELECT error_code, sum(dead_letters)::bigint FROM dashboard.dead_letters_per_hour GROUP BY 1 ORDER BY 2 DESC").rows
            let body = """
                <p>\(codes.map { "<a href=\"/dead-letters?code=\(Self.pathComponent($0[0] ?? ""))\">\(HTML.escape($0[0] ?? ""))</a> \(HTML.escape($0[1] ?? ""))" }.joined(separator: " · "))</p>
                \(HTML.table(header: ["when", "code", "reason", "topic", "partition", "offset", "bytes", "payload SHA-256"],
                             rows: rows.map { $0.map { HTML.escape(Self.short($0)) } }, empty: "no dead letters"))
                """
            return HTML.page(title: "Dead letters", path: "/dead-letters", body: body)
        }
    }

    /// A timestamp to the second, a number to four places; anything else as it is.
    static func short(_ text: String?) -> String {
        guard let text else { return "–" }
        if text.count > 19, text.wholeMatch(of: /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}.*/) != nil { return String(text.prefix(19)) }
        if text.contains("."), let value = Double(text), text.count > 6 { return String(format: "%.4f", value) }
        return text
    }

    static func list(_ json: String?) -> String {
        guard let json, let values = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] else { return "–" }
        return values.isEmpty ? "nothing" : values.joined(separator: ", ")
    }

    /// A value safe as one component of a path or query (letters, digits and -._~ as they are).
    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}
