import Application
import ArgumentParser

/// Turns what ArgumentParser could not parse into the operator's terms: the word that was
/// mistyped, and the command or option that was probably meant.
struct CommandLineCheck {
    let root: ParsableCommand.Type

    /// `cwmigrate help NAME` for a command that does not exist is an error, not the root's help.
    func helpRequestFailure(_ arguments: [String]) -> Failure? {
        guard arguments.first == "help" else { return nil }
        var command = root
        var path = [root._commandName]
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            guard let next = subcommand(of: command, named: name) else {
                return unknownCommand(name, in: command, path: path)
            }
            command = next
            path.append(name)
        }
        return nil
    }

    /// The failure for a parse error: an unknown option or command is named first, because the
    /// error ArgumentParser reports (a missing `--running`) is often only its consequence.
    func failure(for message: String, exitCode: Int32, arguments: [String]) -> Failure {
        let (command, path, firstUnknownWord) = resolve(arguments)
        let help = "see '\(path.joined(separator: " ")) --help'"
        let known = optionNames(of: command)
        for argument in arguments.prefix(while: { $0 != "--" }) where argument.hasPrefix("-") && argument != "-" {
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            guard !known.contains(name), !isShortFlagCluster(name, known: known) else { continue }
            let hint = closestName(to: name, among: known).map { "did you mean '\($0)'? (\(help))" } ?? help
            return Failure(message: "unknown option '\(name)'", hint: hint, exitCode: ExitStatus.usage)
        }
        if let word = firstUnknownWord, !command.configuration.subcommands.isEmpty {
            return unknownCommand(word, in: command, path: path)
        }
        let text = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
        let code = exitCode == 0 ? ExitStatus.usage : exitCode
        return Failure(message: lowercasedFirst(text), hint: help, exitCode: code)
    }

    private func unknownCommand(_ name: String, in command: ParsableCommand.Type, path: [String]) -> Failure {
        let names = command.configuration.subcommands.map { $0._commandName }
        let where_ = path.joined(separator: " ")
        let hint =
            closestName(to: name, among: names).map { "did you mean '\(where_) \($0)'?" }
            ?? "see '\(where_) --help' for the commands"
        return Failure(message: "'\(name)' is not a command of \(where_)", hint: hint, exitCode: ExitStatus.usage)
    }

    /// The deepest subcommand the words name, its path, and the first word that names none.
    private func resolve(_ arguments: [String]) -> (ParsableCommand.Type, [String], String?) {
        var command = root
        var path = [root._commandName]
        for word in arguments {
            if word.hasPrefix("-") { break }
            guard let next = subcommand(of: command, named: word) else {
                return (command, path, command.configuration.subcommands.isEmpty ? nil : word)
            }
            command = next
            path.append(word)
        }
        return (command, path, nil)
    }

    private func subcommand(of command: ParsableCommand.Type, named name: String) -> ParsableCommand.Type? {
        if name == "help" { return HelpCommandMarker.self }
        return command.configuration.subcommands.first { $0._commandName == name }
    }

    /// Every option name the command's help lists, `--long` and `-s` alike.
    private func optionNames(of command: ParsableCommand.Type) -> Set<String> {
        let help = command.helpMessage(includeHidden: true, columns: 10_000)
        var names: Set<String> = ["--help", "-h"]
        if command == root { names.insert("--version") }
        let separators: Set<Character> = [" ", ",", "[", "]", "<", ">", "(", ")", "=", ".", ":", "'", "\n"]
        for token in help.split(whereSeparator: { separators.contains($0) }) where token.hasPrefix("-") {
            let name = String(token)
            let second: Character? = name.dropFirst().first
            let isName = name.hasPrefix("--") ? name.count > 2 : (second?.isLetter ?? false)
            if isName { names.insert(name) }
        }
        return names
    }

    /// `-yq` is two short flags, not an unknown option.
    private func isShortFlagCluster(_ name: String, known: Set<String>) -> Bool {
        guard !name.hasPrefix("--"), name.count > 2 else { return false }
        return name.dropFirst().allSatisfy { known.contains("-\($0)") }
    }

    private func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }
}

/// Stands for ArgumentParser's built-in `help` command while walking a command line.
private struct HelpCommandMarker: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "help")
}
