import ChildProcesses
import Foundation
import Postgres
import TestSupport
import Testing
@testable import Pipeline

/// `radstream dashboard` over a real stream, read as the reader role, behind its login.
@Suite("The web dashboard", .serialized)
struct DashboardPagesTests {
    @Test func everyPageShowsTheStreamBehindALoginAndFetchesNothingFromElsewhere() throws {
        let (conninfo, configuration) = try DashboardViewsTests.stream("dashboard_pages", bad: Array("{}".utf8), on: \.reportTopic)
        try DashboardReader.create("pages_reader", password: nil, on: PostgresConnection(conninfo))

        let folder = FileManager.default.temporaryDirectory.appending(path: "dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let credentials = folder.appending(path: "users")
        try "# who may log in\nquality:pw-1\n".write(to: credentials, atomically: true, encoding: .utf8)
        let output = folder.appending(path: "dashboard.log")
        let pid = try ChildProcess.spawn(Paths.binary.path, [
            "dashboard", "--postgres", conninfo.replacingOccurrences(of: "user=radstream", with: "user=pages_reader"),
            "--credentials-file", credentials.path, "--port", "0"], outputPath: output.path)
        defer {
            kill(pid, SIGTERM)
            _ = ChildProcess.wait(pid)
        }
        var base: String?
        _ = try eventually(timeout: .seconds(30)) {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            base = text.firstMatch(of: /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.output.1) }
            return base != nil
        }
        let address = try #require(base, "the dashboard did not say where it listens")
        let login = ["Authorization": "Basic " + Data("quality:pw-1".utf8).base64EncodedString()]

        // No login, or a wrong one: nothing shown.
        #expect(httpGet(address + "/")?.status == 401)
        #expect(httpGet(address + "/studies", headers: ["Authorization": "Basic " + Data("quality:wrong".utf8).base64EncodedString()])?.status == 401)
        #expect(httpGet(address + "/films/1.png")?.status == 401)

        var pages: [String: String] = [:]
        for path in ["/", "/studies", "/studies?disagreement=any&finding=pneumonia", "/models", "/dead-letters"] {
            let page = try #require(httpGet(address + path, headers: login))
            #expect(page.status == 200, "\(path): \(page.status)")
            pages[path] = page.body
        }
        let overview = try #require(pages["/"])
        #expect(overview.contains("<svg") && overview.matches(of: /class="point"/).count >= 2, "the overview's charts have no points")
        #expect(overview.contains("pneumonia") && overview.contains("covid"))
        // A stream minutes old is charted by the minute; the lag's history is drawn.
        #expect(overview.contains("Events per minute"))
        let lagSection = overview.components(separatedBy: "<h2>").first { $0.hasPrefix("Records waiting in Kafka") } ?? ""
        #expect(lagSection.contains("class=\"point\""), "the lag chart has no points")
        let studies = try #require(pages["/studies"])
        let links = studies.matches(of: /href="\/studies\/([^"]+)"/).map { String($0.output.1) }
        #expect(links.count == 97)
        // Most recently active first, as the rows say.
        let owner = try PostgresConnection(conninfo)
        let newest = try owner.execute("""
            SELECT study_id FROM (SELECT study_id, processed_at FROM images UNION ALL SELECT study_id, processed_at FROM reports) AS rows
            GROUP BY study_id ORDER BY max(processed_at) DESC, study_id DESC
            """).rows.compactMap { $0[0] }
        #expect(links.map { $0.removingPercentEncoding ?? $0 } == newest)
        #expect(try #require(pages["/dead-letters"]).contains("unknown_schema"))  // {} names no schema
        #expect(try #require(pages["/models"]).contains("active"))

        // A study with a report and a film: both impressions, the observations, the film and its maps.
        let study = try #require(links.first { link in
            let page = httpGet(address + "/studies/" + link, headers: login)?.body ?? ""
            return page.contains("alt=\"film\"") && page.contains("radiologist's impression")
        })
        let page = try #require(httpGet(address + "/studies/" + study, headers: login))
        #expect(page.status == 200 && page.body.contains("summarizer's impression") && page.body.contains("Observations"))
        #expect(page.body.contains("Pleural Effusion"))
        let images = page.body.matches(of: /<img alt="[^"]*" src="([^"]+)"/).map { String($0.output.1) }
        #expect(images.count >= 3, "the film and a Grad-CAM map per model")
        for image in images {
            let fetched = try #require(httpFetch(address + image, headers: login))
            #expect(fetched.status == 200 && fetched.contentType == "image/png" && fetched.data.starts(with: [0x89, 0x50, 0x4E, 0x47]),
                    "\(image) is not a PNG")
        }
        #expect(httpGet(address + "/studies/no-such-study", headers: login)?.status == 404)
        #expect(httpGet(address + "/studies?from=yesterday", headers: login)?.body.contains("YYYY-MM-DD") == true)

        // Nothing from elsewhere: every src and href stays on the dashboard.
        for (path, body) in pages.merging(["study": page.body], uniquingKeysWith: { $1 }) {
            let outside = body.matches(of: /(?:src|href)="([^"]*)"/).map { String($0.output.1) }.filter { !$0.hasPrefix("/") }
            #expect(outside.isEmpty, "\(path) points outside: \(outside)")
        }
        // In a real browser (headless Chromium), logged in: every page renders with its content,
        // and its screenshot is kept as an artifact; without the login, nothing of it.
        let authority = address.replacingOccurrences(of: "http://", with: "http://quality:pw-1@")
        let artifacts = TestData.packageRoot.appending(path: ".build/test-artifacts/dashboard")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let expected = ["/": "Events per minute", "/studies": "first seen", "/studies/\(study)": "radiologist's impression",
                        "/models": "Self-training rounds", "/dead-letters": "payload SHA-256"]
        for (path, text) in expected.sorted(by: { $0.key < $1.key }) {
            let name = path == "/" ? "overview" : path.dropFirst().replacingOccurrences(of: "/", with: "-")
            let dom = try Chromium.dom(of: authority + path)
            #expect(dom.contains(text), "\(path) in Chromium: no \(text)")
            let shot = artifacts.appending(path: "\(name).png")
            try Chromium.screenshot(of: authority + path, to: shot)
            #expect(((try? Data(contentsOf: shot))?.count ?? 0) > 5_000, "\(path): no screenshot")
        }
        let refused = try Chromium.dom(of: address + "/studies/\(study)")
        #expect(!refused.contains("radiologist's impression"))

        // The same pages from `serve` itself, when the configuration turns them on.
        var served = configuration
        served.dashboard = .init(enabled: true, host: "127.0.0.1", port: 0, credentialsFile: credentials.path,
                                 conninfo: conninfo.replacingOccurrences(of: "user=radstream", with: "user=pages_reader"))
        let configFile = folder.appending(path: "serve.json")
        try JSONEncoder().encode(served).write(to: configFile)
        let serveLog = folder.appending(path: "serve.log")
        let server = try ChildProcess.spawn(Paths.binary.path, ["serve", "--config", configFile.path], outputPath: serveLog.path)
        defer {
            kill(server, SIGTERM)
            _ = ChildProcess.wait(server)
        }
        var servedAddress: String?
        _ = try eventually(timeout: .seconds(60)) {
            let text = (try? String(contentsOf: serveLog, encoding: .utf8)) ?? ""
            servedAddress = text.firstMatch(of: /dashboard on (http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.output.1) }
            return servedAddress != nil
        }
        let fromServe = try #require(servedAddress, "serve did not start the dashboard")
        #expect(httpGet(fromServe + "/studies", headers: login)?.body.contains("href=\"/studies/") == true)
        #expect(httpGet(fromServe + "/studies")?.status == 401)
        // Turned on without anyone to let in, it refuses to start, saying why.
        served.dashboard.credentialsFile = ""
        try JSONEncoder().encode(served).write(to: configFile)
        let unstarted = try ChildProcess.run(Paths.binary.path, ["serve", "--config", configFile.path])
        #expect(unstarted.status != 0 && unstarted.output.contains("dashboard.credentialsFile"))

        // The password is in no log line.
        for log in [output, serveLog] { #expect(!((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("pw-1")) }
    }
}

/// Debian's headless Chromium, run as a command (ops/setup.sh installs it).
enum Chromium {
    static let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func arguments(_ extra: [String]) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
         "--user-data-dir=\(FileManager.default.temporaryDirectory.appending(path: "chromium-\(getpid())").path)"] + extra
    }

    /// The page's DOM once it has loaded, as Chromium serialises it.
    static func dom(of url: String) throws -> String {
        let binary = try #require(binary, "chromium is not installed (ops/setup.sh installs it)")
        let result = try ChildProcess.run(binary, arguments(["--virtual-time-budget=3000", "--dump-dom", url]))
        return result.output
    }

    static func screenshot(of url: String, to file: URL) throws {
        let binary = try #require(binary, "chromium is not installed (ops/setup.sh installs it)")
        _ = try ChildProcess.run(binary, arguments(["--window-size=1280,1400", "--virtual-time-budget=3000", "--screenshot=\(file.path)", url]))
    }
}

