import ChildProcesses
import Foundation
import Imaging
import TestSupport
import Testing

/// The joint diffusion model's commands, as a user runs them, with the shipped models/diffusion.
@Suite("The joint diffusion model on the command line", .serialized)
struct DiffusionCommandLineTests {
    static let model = "models/diffusion"

    static func folder(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appending(path: "\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// `counterfactual`: per readable file the counterfactual under the file's own name, its
    /// difference map and a line of the contract; an error line for a bad file, and the command
    /// goes on; nothing readable is a non-zero exit.
    @Test func counterfactualWritesTheContractPerFileAndGoesOnPastBadOnes() throws {
        let images = try Self.folder("counterfactual-in"), out = try Self.folder("counterfactual-out")
        defer { for folder in [images, out] { try? FileManager.default.removeItem(at: folder) } }
        let films = ["val_00000.png", "val_00003.png"], dicom = "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
        for name in films {
            try FileManager.default.copyItem(at: Paths.data.appending(path: "pneumoniamnist/val/\(name)"), to: images.appending(path: name))
        }
        try FileManager.default.copyItem(at: Paths.data.appending(path: "samples/\(dicom)"), to: images.appending(path: dicom))
        try Data("not an image".utf8).write(to: images.appending(path: "broken.png"))
        let result = try ChildProcess.run(Paths.binary.path, ["counterfactual", "--images", images.path, "--out", out.path,
                                                              "--model", TestData.packageRoot.appending(path: Self.model).path, "--steps", "5"])
        #expect(result.status == 0, "\(result.output)")
        let byFile = try CommandLineTests.lines(of: out.appending(path: "counterfactuals.jsonl"), by: "file")
        #expect(byFile.keys.sorted() == (films + [dicom, "broken.png"]).sorted())
        #expect(byFile["broken.png"]?["error"] is String && byFile["broken.png"]?["to"] == nil)
        for name in films + [dicom] {
            let line = try #require(byFile[name])
            let (from, to) = (line["from"] as? String, line["to"] as? String)
            #expect(from != nil && to != nil && from != to && ["normal", "pneumonia"].contains(to!), "\(line)")
            for key in ["probability_before", "probability_after", "changed_fraction"] {
                #expect((line[key] as? Double).map { (0...1).contains($0) } == true, "\(name) \(key)")
            }
            #expect((line["l1"] as? Double).map { $0 >= 0 && $0 <= 1 } == true)
            let counterfactual = try ImageDecoder().decode([UInt8](Data(contentsOf: out.appending(path: name))))
            #expect(counterfactual.format == .png && counterfactual.image.width == 28 && counterfactual.image.height == 28)
            let stem = (name as NSString).deletingPathExtension
            #expect(FileManager.default.fileExists(atPath: out.appending(path: "\(stem).difference.png").path))
        }
        let grid = try ImageDecoder().decode([UInt8](Data(contentsOf: out.appending(path: "grid.png"))))
        #expect(grid.image.width == 3 * 112 + 2 * 4 && grid.image.height == 3 * 112 + 2 * 4, "three rows of three")
        for name in films + [dicom] { try FileManager.default.removeItem(at: images.appending(path: name)) }
        #expect(try ChildProcess.run(Paths.binary.path, ["counterfactual", "--images", images.path, "--out", out.path,
                                                         "--model", TestData.packageRoot.appending(path: Self.model).path]).status != 0)
        let bad = try ChildProcess.run(Paths.binary.path, ["counterfactual", "--images", images.path, "--out", out.path, "--start-step", "0"])
        #expect(bad.status == 64 && bad.output.contains("--start-step"))
    }

    /// `generate`: the films asked for and their grid, as PNGs; an unknown class is an error that names the classes.
    @Test func generateWritesFilmsAndAGrid() throws {
        let out = try Self.folder("generate")
        defer { try? FileManager.default.removeItem(at: out) }
        let model = TestData.packageRoot.appending(path: Self.model).path
        let result = try ChildProcess.run(Paths.binary.path, ["generate", "--model", model, "--class", "pneumonia", "--count", "3",
                                                              "--steps", "5", "--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        for name in ["pneumonia-0001.png", "pneumonia-0002.png", "pneumonia-0003.png"] {
            let film = try ImageDecoder().decode([UInt8](Data(contentsOf: out.appending(path: name))))
            #expect(film.image.width == 28 && film.image.height == 28)
            #expect(Set(film.image.pixels).count > 10, "a film, not a flat image")
        }
        let grid = try ImageDecoder().decode([UInt8](Data(contentsOf: out.appending(path: "pneumonia-grid.png"))))
        #expect(grid.image.width == 3 * 28 + 2 * 2 && grid.image.height == 28)
        let unknown = try ChildProcess.run(Paths.binary.path, ["generate", "--model", model, "--class", "covid-19", "--out", out.path])
        #expect(unknown.status != 0 && unknown.output.contains("normal, pneumonia"))
    }

    /// `classify --model models/diffusion` answers with the joint head, in the contract's format.
    @Test func classifyReadsFilmsWithTheJointHead() throws {
        let images = try Self.folder("classify-joint")
        defer { try? FileManager.default.removeItem(at: images) }
        for name in ["val_00000.png", "val_00003.png"] {
            try FileManager.default.copyItem(at: Paths.data.appending(path: "pneumoniamnist/val/\(name)"), to: images.appending(path: name))
        }
        let out = images.appending(path: "out.jsonl")
        let result = try ChildProcess.run(Paths.binary.path, ["classify", "--images", images.path, "--out", out.path,
                                                              "--model", TestData.packageRoot.appending(path: Self.model).path])
        #expect(result.status == 0 && result.output.contains("joint diffusion head"), "\(result.output)")
        let byFile = try CommandLineTests.lines(of: out, by: "file")
        #expect((byFile["val_00000.png"]?["decisions"] as? [String: String])?["pneumonia"] == "pneumonia")
        #expect((byFile["val_00003.png"]?["decisions"] as? [String: String])?["pneumonia"] == "normal")
        #expect(byFile.values.allSatisfy { (($0["probabilities"] as? [String: Double])?["pneumonia"]).map { (0...1).contains($0) } == true })
    }

    /// `train diffusion` writes a model that the other commands read, and a manifest of what made it.
    @Test func trainDiffusionWritesAModelAndItsManifest() throws {
        let out = try Self.folder("train-diffusion")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try ChildProcess.run(Paths.binary.path, [
            "train", "diffusion", "--data", Paths.data.appending(path: "pneumoniamnist").path, "--out", out.path, "--epochs", "1",
            "--channels", "8,16", "--label-fraction", "0.2", "--batch-size", "128"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("epoch 1/1") && result.output.contains("s left"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appending(path: "manifest.json"))) as? [String: Any])
        #expect(manifest["command"] as? String != nil && (manifest["validation"] as? [String: Any])?["auc"] is Double)
        #expect((manifest["labelledImages"] as? Int).map { $0 > 800 && $0 < 1000 } == true, "a fifth of 4,690, less the tenth kept back")
        let bad = try ChildProcess.run(Paths.binary.path, ["train", "diffusion", "--data", "x", "--out", out.path, "--label-fraction", "0"])
        #expect(bad.status == 64 && bad.output.contains("--label-fraction"))
    }
}
