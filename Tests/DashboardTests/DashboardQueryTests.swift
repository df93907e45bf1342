import Foundation
import Testing
@testable import Dashboard

/// What the dashboard asks PostgreSQL, checked without a server (the pages against a real one
/// are in the integration tests).
@Suite struct DashboardQueryTests {
    @Test func grafanaMacrosExpandAsGrafanaExpandsThem() {
        let sql = "SELECT $__timeGroupAlias(at, '5m'), count(*) FROM dashboard.events WHERE $__timeFilter(at) GROUP BY $__timeGroup(at, '1h')"
        #expect(GrafanaMacros.expand(sql) == """
            SELECT floor(extract(epoch from at)/300)*300 AS "time", count(*) FROM dashboard.events \
            WHERE at BETWEEN now() - interval '7 days' AND now() + interval '1 minute' GROUP BY floor(extract(epoch from at)/3600)*3600
            """)
        #expect(GrafanaMacros.expand("$__timeGroup(made_at, '1d')") == "floor(extract(epoch from made_at)/86400)*86400")
        #expect(!GrafanaMacros.expand("WHERE $__timeFilter(created_at)", range: "1 day").contains("$__"))
    }

    @Test func chartsOfAnHourAreDrawnByTheMinuteAndOfAWeekByTheHour() {
        #expect(ChartStep.fitting(span: 0).name == "minute")
        #expect(ChartStep.fitting(span: 3600).name == "minute")
        #expect(ChartStep.fitting(span: 6 * 3600).name == "5 minutes")
        #expect(ChartStep.fitting(span: 2 * 86400).name == "15 minutes")
        #expect(ChartStep.fitting(span: 7 * 86400).name == "hour")
        #expect(ChartStep.fitting(span: 90 * 86400).name == "hour")
    }

    @Test func theStudyListWalksActivityNewestFirstWithAnExactCursor() {
        let list = StudyList(filter: .init(from: "2026-11-01", to: "2026-11-30"))
        let (first, noParameters) = list.activitySQL(after: nil)
        #expect(first.contains("ORDER BY at DESC, study_id DESC LIMIT \(StudyList.window)"))
        #expect(noParameters == [.text("2026-11-01"), .text("2026-11-30")])
        let (next, parameters) = list.activitySQL(after: (at: "2026-11-20 10:00:00.5+00", study: "s'42"))
        // The time bound the index can use, then the tie-break on the study; values as parameters only.
        #expect(next.contains("at <= $1::timestamptz AND (at < $1::timestamptz OR study_id < $2)"))
        #expect(!next.contains("s'42"))
        #expect(parameters.first == .text("2026-11-20 10:00:00.5+00") && parameters.count == 4)
    }

    @Test func theStudySummariesCarryTheFilterAndOnlyTheStudiesMet() {
        let (sql, parameters) = StudyList(filter: .init(disagreement: "any", finding: "pneumonia", version: "pneumonia v1"))
            .summarySQL(of: ["a", "b", "c"])
        #expect(sql.contains("study_id IN ($1, $2, $3)"))
        #expect(sql.contains("(report_image_disagree OR summarizer_disagrees)") && sql.contains("pneumonia_called"))
        #expect(sql.contains("$4 = ANY (model_versions)"))
        #expect(parameters == [.text("a"), .text("b"), .text("c"), .text("pneumonia v1")])
        #expect(StudyList.Filter(from: "yesterday").hasValidDates == false)
        #expect(StudyList.Filter(from: "2026-12-01", to: "").hasValidDates)
    }

    @Test func aChartsLegendGivesEachNameItsWidth() throws {
        let now = Date()
        let names = ["radstream-demo radstream.images", "radstream-demo radstream.reports"]
        let svg = SVGChart(series: names.map { .init(name: $0, points: [(now, 1), (now.addingTimeInterval(60), 2)]) }).svg
        let starts = svg.matches(of: /<text x="([0-9.]+)" y="[0-9.]+">radstream-demo/).compactMap { Double($0.output.1) }
        #expect(starts.count == 2)
        #expect(starts[1] - starts[0] >= 7 * Double(names[0].count), "the second name starts inside the first")
        #expect(svg.matches(of: /class="point"/).count == 4)
    }
}
