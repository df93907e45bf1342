import Foundation
import Hummingbird
import Imaging
import Logging
import Postgres

/// `radstream dashboard`: the pages, behind a login, reading the views as the reader role.
public enum DashboardServer {
    /// Who may log in: HTTP Basic credentials, compared in constant time, never logged.
    public struct Credentials: Sendable {
        let users: [String: [UInt8]]

        /// Lines `user:password` (blank lines and lines starting with # are skipped).
        public init(file: URL) throws {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw DashboardError("the credentials file \(file.path) cannot be read")
            }
            var users: [String: [UInt8]] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, line.index(after: colon) != line.endIndex else {
                    throw DashboardError("the credentials file \(file.path) has a line that is not user:password")
                }
                users[String(line[..<colon])] = Array(line[line.index(after: colon)...].utf8)
            }
            guard !users.isEmpty else { throw DashboardError("the credentials file \(file.path) names nobody") }
            self.users = users
        }

        /// Whether an `Authorization: Basic …` header names a user with its password.
        func admit(_ header: String?) -> Bool {
            guard let header, header.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(header.dropFirst(6))),
                  let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return false }
            let user = String(decoding: decoded[..<colon], as: UTF8.self)
            let given = Array(decoded[decoded.index(after: colon)...])
            guard let expected = users[user] else { return false }
            // The same work whatever the first difference: a timing probe learns nothing of the password.
            var difference = UInt8(given.count == expected.count ? 0 : 1)
            for index in 0..<max(given.count, expected.count) {
                difference |= (index < given.count ? given[index] : 0) ^ (index < expected.count ? expected[index] : 0)
            }
            return difference == 0
        }
    }

    struct Login<Context: RequestContext>: RouterMiddleware {
        let credentials: Credentials

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            guard credentials.admit(request.headers[.authorization]) else {
                return Response(status: .unauthorized,
                                headers: [.wwwAuthenticate: "Basic realm=\"RadStream\", charset=\"UTF-8\"", .contentType: "text/plain"],
                                body: .init(byteBuffer: ByteBuffer(string: "RadStream's dashboard shows patient data: log in.\n")))
            }
            return try await next(request, context)
        }
    }

    public static func application(conninfo: String, credentials: Credentials, host: String, port: Int, logger: Logger,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let store = DashboardStore(conninfo: conninfo)
        let router = Router()
        router.add(middleware: Login(credentials: credentials))
        router.get("/") { _, _ in html(try await DashboardPages.overview(store)) }
        router.get("/studies") { request, _ in
            let query = request.uri.queryParameters
            let filter = StudyList.Filter(disagreement: query.get("disagreement"), finding: query.get("finding"),
                                          from: query.get("from"), to: query.get("to"), version: query.get("version"))
            return html(try await DashboardPages.studies(store, filter: filter))
        }
        router.get("/studies/:study") { _, context in
            let id = context.parameters.get("study") ?? ""
            guard let page = try await DashboardPages.study(store, id: id) else { return notFound("no study \(id)") }
            return html(page)
        }
        router.get("/models") { _, _ in html(try await DashboardPages.models(store)) }
        router.get("/dead-letters") { request, _ in
            html(try await DashboardPages.deadLetters(store, code: request.uri.queryParameters.get("code")))
        }
        router.get("/films/:film") { _, context in
            guard let id = imageID(context.parameters.get("film"), suffix: ".png") else { return notFound("no such film") }
            let row = try await store.read { try $0.execute("SELECT side, pixels FROM dashboard.films WHERE id = $1", [.int(id)]).rows.first }
            guard let row, let side = row[0].flatMap(Int.init), let pixels = PostgresRows.bytes(row[1]), pixels.count == side * side else {
                return notFound("no kept copy of film \(id)")
            }
            return png(try PNGEncoder.encode(GreyImage(width: side, height: side, pixels: pixels)))
        }
        for kind in ["saliency", "counterfactual", "difference"] {
            router.get("/films/:film/\(kind)/:file") { _, context in
                guard let id = imageID(context.parameters.get("film"), suffix: ""),
                      let file = context.parameters.get("file"), file.hasSuffix(".png") else { return notFound("no such map") }
                let model = String(file.dropLast(4))
                let sql = kind == "saliency"
                    ? "SELECT saliency_png FROM dashboard.predictions WHERE image_id = $1 AND model = $2"
                    : "SELECT \(kind)_png FROM dashboard.counterfactuals WHERE image_id = $1 AND model = $2 AND status = 'done'"
                let bytes = try await store.read { try PostgresRows.bytes($0.execute(sql, [.int(id), .text(model)]).scalar) }
                guard let bytes else { return notFound("no \(kind) of film \(id) by \(model)") }
                return png(bytes)
            }
        }
        return Application(router: router,
                           configuration: .init(address: .hostname(host, port: port), serverName: "radstream-dashboard"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    private static func imageID(_ text: String?, suffix: String) -> Int? {
        guard let text, text.hasSuffix(suffix) else { return nil }
        return Int(text.dropLast(suffix.count))
    }

    private static func html(_ page: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    private static func png(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func notFound(_ text: String) -> Response {
        Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

public struct DashboardError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
