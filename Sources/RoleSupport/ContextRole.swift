import Streams

/// A role that takes a context's commands from its commands topic and answers on its events topic.
public protocol ContextRole: StreamRole {
    var commandsTopic: String { get }
    var eventsTopic: String { get }
}

extension ContextRole {
    /// A command that goes to the dead-letter topic is rejected too: its outcome is never pending.
    public func deadLetterOutputs(for record: InboundRecord, reason: String) -> [OutboundMessage] {
        ContextOutputs(eventsTopic: eventsTopic).deadLetterRejection(of: record, commandsTopic: commandsTopic, deadLetterTopic: deadLetterTopic, reason: reason)
    }
}
