import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` (the commit the binary is built from, and whether the tree had
/// changes) before every build of the target that uses it, so that `--version` and
/// `radstream_build_info` name what is running. The script rewrites the file only when its text
/// changes, so an unchanged commit recompiles nothing. Where there is no git checkout (a
/// container build copies the sources without `.git`), `RADSTREAM_COMMIT` names the commit;
/// otherwise it is "unknown".
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let file = output.appending(path: "BuildInfo.swift")
        let script = """
            set -e
            mkdir -p "$OUT"
            dirty=false
            if [ -n "$GIVEN" ]; then commit="$GIVEN"
            else
              commit=$(git -C "$PACKAGE" rev-parse HEAD 2>/dev/null || echo unknown)
              if [ "$commit" != unknown ] && [ -n "$(git -C "$PACKAGE" status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty=true; fi
            fi
            text="// Generated before each build by BuildInfoPlugin: do not edit.
            public enum BuildInfo {
                public static let commit = \\"$commit\\"
                public static let modified = $dirty
            }"
            if [ ! -f "$FILE" ] || [ "$(cat "$FILE")" != "$text" ]; then printf '%s\\n' "$text" > "$FILE"; fi
            """
        return [.prebuildCommand(displayName: "Recording the commit being built", executable: URL(filePath: "/bin/sh"),
                                 arguments: ["-c", script],
                                 environment: ["OUT": output.path, "FILE": file.path, "PACKAGE": context.package.directoryURL.path,
                                               "GIVEN": ProcessInfo.processInfo.environment["RADSTREAM_COMMIT"] ?? ""],
                                 outputFilesDirectory: output)]
    }
}
