@testable import App
import Foundation
import Kafka
import Streams
import Testing

@Suite struct FormattingTests {
    let message = KafkaConsumerMessage(
        topic: "souk.order.events.v1", partition: 2, offset: 41, key: Array("order-1".utf8), value: Array(#"{"orderId":"order-1","status":"failed"}"#.utf8),
        headers: [KafkaHeader(key: "ce_type", string: "souk.order.OrderStatusUpdated.v1"), KafkaHeader(key: "correlation_id", string: "cmd-9")],
        timestampMilliseconds: 1_795_000_000_123
    )

    @Test func aLineShowsTimePlaceKeyTypeCorrelationAndBody() {
        #expect(RecordFormatter(colour: false).line(message)
            == #"2026-11-18T11:06:40.123Z souk.order.events.v1/2@41 key=order-1 OrderStatusUpdated corr=cmd-9 {"orderId":"order-1","status":"failed"}"#)
        #expect(RecordFormatter(colour: true).line(message).contains("\u{1B}[31mOrderStatusUpdated\u{1B}[0m") == false, "failures are red, updates are not")
        #expect(RecordFormatter(colour: false, bodyWidth: 10).line(message).hasSuffix(#"{"orderId…"#))
    }

    @Test func jsonKeepsTheBodyAsJSON() throws {
        let object = try JSONSerialization.jsonObject(with: Data(RecordFormatter(colour: false).json(message).utf8)) as! [String: Any]
        #expect(object["offset"] as? Int == 41 && object["key"] as? String == "order-1" && object["type"] as? String == "souk.order.OrderStatusUpdated.v1")
        #expect((object["value"] as? [String: Any])?["status"] as? String == "failed")
    }

    @Test(arguments: [
        ("earliest", TailStart.earliest), ("latest", .latest), ("42", .offset(42)),
        ("2026-11-25T10:00:00Z", .time(Date(timeIntervalSince1970: 1_795_600_800))), ("10m", .time(Date(timeIntervalSince1970: 1_000_000 - 600))),
    ])
    func startingPoints(text: String, start: TailStart) {
        #expect(TailStart(text, now: Date(timeIntervalSince1970: 1_000_000)) == start)
    }

    @Test func badStartingPointsAreRefused() {
        #expect(TailStart("yesterday") == nil && TailStart("-3") == nil && TailStart("5x") == nil)
    }

    @Test func tablesAlign() {
        #expect(GroupLagReport.aligned(["A  BB  C", "AAA  B  CC"]) == "A    BB  C\nAAA  B   CC")
    }

    @Test func aTimelineShowsDelaysStatusAndWhatItWaitsFor() {
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let timeline = SagaTimeline.Timeline(
            orderId: "o1",
            steps: [
                .init(at: start, kind: .command, name: "CreateOrder", detail: "", topic: "t"),
                .init(at: start + 0.25, kind: .compensation, name: "ReleaseStock", detail: "A × 2", topic: "t"),
            ],
            status: "awaiting_payment", waitingFor: "payment", deadline: "2026-11-18T20:27:40Z", endReason: nil
        )
        let lines = SagaTimeline.render(timeline, colour: false).split(separator: "\n").map(String.init)
        #expect(lines[0] == "order o1")
        #expect(lines[2].contains("+0.250s") && lines[2].contains("compensation") && lines[2].hasSuffix("A × 2"))
        #expect(lines[3] == "status: awaiting_payment")
        #expect(lines[4] == "waiting for: payment, deadline 2026-11-18T20:27:40Z")
    }
}
