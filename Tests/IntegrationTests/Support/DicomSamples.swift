import ChildProcesses
import Foundation

/// Copies of the shared data's real chest DICOM (CR, PA, JPEG baseline), made distinct
/// instances by DCMTK's dcmodify: new SOP Instance and Series UIDs, the study given.
enum DicomSamples {
    static var original: URL {
        Paths.data.appending(path: "samples/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm")
    }

    /// A UID of the 2.25 root (one derived from random bits), as a new study would get.
    static func newUID() -> String {
        "2.25." + String(UInt64.random(in: 1...UInt64.max)) + String(UInt32.random(in: 0...UInt32.max))
    }

    /// `count` instances of `study` in `folder`, each changed further by `modifications` (dcmodify's `-m`/`-ea` arguments).
    static func make(_ count: Int, study: String, in folder: URL, name: String = "instance",
                     modifications: [String] = []) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files = (0..<count).map { folder.appending(path: "\(name)-\($0).dcm") }
        for file in files {
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.copyItem(at: original, to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        }
        try modify(files, ["-gin", "-gse", "-m", "(0020,000d)=\(study)"])
        if !modifications.isEmpty { try modify(files, modifications) }
        return files
    }

    static func modify(_ files: [URL], _ arguments: [String]) throws {
        let run = try ChildProcess.run("/usr/bin/dcmodify", ["-nb"] + arguments + files.map(\.path))
        guard run.status == 0 else { throw TestFailure("dcmodify \(arguments): \(run.output)") }
    }

    /// An attribute of a DICOM file as dcmdump prints it.
    static func value(_ tag: String, of file: URL) throws -> String? {
        let run = try ChildProcess.run("/usr/bin/dcmdump", ["+P", tag, file.path])
        return run.output.firstMatch(of: /\[([^\]]*)\]/).map { String($0.1) }
    }
}

/// What DCMTK's storescu said of each file it sent (run with -d): its response's DIMSE status
/// and Error Comment, by file.
struct StoreOutcome {
    let status: Int32
    let responses: [String: UInt16]
    let comments: [String: String]
    let output: String

    /// Sends `files` to the gateway as a modality would, on one association; JPEG proposed, as the files are.
    static func send(_ files: [URL], port: Int, callingAETitle: String = "STORESCU", calledAETitle: String = "RADSTREAM") throws -> StoreOutcome {
        let run = try ChildProcess.run("/usr/bin/storescu", ["-d", "-xy", "-aet", callingAETitle, "-aec", calledAETitle,
                                                             "127.0.0.1", String(port)] + files.map(\.path))
        let (responses, comments) = parse(run.output)
        return StoreOutcome(status: run.status, responses: responses, comments: comments, output: run.output)
    }

    /// "Sending file: X", then its response's "DIMSE Status : 0xNNNN" and Error Comment, if any.
    static func parse(_ output: String) -> (responses: [String: UInt16], comments: [String: String]) {
        var responses: [String: UInt16] = [:], comments: [String: String] = [:]
        var sending: String?
        for line in output.split(separator: "\n") {
            if let match = line.firstMatch(of: /Sending file: (.*)$/) { sending = String(match.1) }
            guard let file = sending else { continue }
            if let match = line.firstMatch(of: /DIMSE Status\s*: 0x([0-9a-fA-F]{4})/) { responses[file] = UInt16(match.1, radix: 16) }
            if let match = line.firstMatch(of: /\(0000,0902\) LO \[(.*)\]/) { comments[file] = String(match.1) }
        }
        return (responses, comments)
    }

    func succeeded(_ file: URL) -> Bool { responses[file.path] == 0x0000 }
}
