/// Finds things that look like a payment card number (PAN) in free text, so that commands carrying
/// one are refused: Souk stores payment-method tokens and display data only.
public enum CardNumberDetector {
    /// True when `text` holds a card number: 13 to 19 digits that pass the Luhn check, written either
    /// in one run or in the groupings cards are printed with (4-4-4-4…, 4-6-5, 4-6-4) separated by
    /// single spaces or dashes. Other groupings (ids like `order-12345678-1234567890`) are not cards.
    public static func containsCardNumber(_ text: String) -> Bool {
        var groups: [[Int]] = []
        var current: [Int] = []
        var afterSeparator = false
        func check() -> Bool {
            if !current.isEmpty { groups.append(current) }
            defer {
                groups.removeAll()
                current.removeAll()
            }
            let digits = groups.flatMap { $0 }
            return (13...19).contains(digits.count) && isCardGrouping(groups.map(\.count)) && luhn(digits[...])
        }
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                current.append(digit)
                afterSeparator = false
            } else if (character == " " || character == "-") && !current.isEmpty && !afterSeparator {
                groups.append(current)
                current = []
                afterSeparator = true
            } else {
                if afterSeparator { afterSeparator = false }
                if check() { return true }
            }
        }
        return check()
    }

    static func isCardGrouping(_ lengths: [Int]) -> Bool {
        if lengths.count == 1 { return true }
        if lengths == [4, 6, 5] || lengths == [4, 6, 4] { return true }
        return lengths.dropLast().allSatisfy { $0 == 4 } && (1...4).contains(lengths.last ?? 0)
    }

    static func luhn(_ digits: ArraySlice<Int>) -> Bool {
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            if index % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }
}

import Contracts

extension CardNumberDetector {
    /// The JSON pointers of the string fields in `json` that hold a card number.
    public static func fieldsWithCardNumbers(in json: JSONValue, at pointer: String = "") -> [String] {
        switch json {
        case .string(let text): containsCardNumber(text) ? [pointer] : []
        case .array(let items): items.enumerated().flatMap { fieldsWithCardNumbers(in: $0.element, at: "\(pointer)/\($0.offset)") }
        case .object(let object): object.keys.sorted().flatMap { fieldsWithCardNumbers(in: object[$0]!, at: "\(pointer)/\($0)") }
        // A card number sent as a JSON number is a card number too.
        case .integer(let number): containsCardNumber(String(number)) ? [pointer] : []
        case .null, .bool, .number: []
        }
    }
}
