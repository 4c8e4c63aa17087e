//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Testing

/// What every broker's `isSubscribed` and consumer `ready` rest on: the wanted set, its
/// version, and the version the broker confirmed on the live connection.
struct BackplaneSubscriptionsTests {
    @Test func confirmedOnlyWhileTheLiveConnectionHasEverySubscription() {
        let subscriptions = BackplaneSubscriptions([.channel("socketio")])
        #expect(!subscriptions.isConfirmed)  // connecting
        subscriptions.confirm(subscriptions.version)
        #expect(subscriptions.isConfirmed)
        // A new subscription is not confirmed until the broker says so.
        #expect(subscriptions.add([.channel("socketio#node")]))
        #expect(!subscriptions.isConfirmed)
        #expect(!subscriptions.add([.channel("socketio#node")]))  // a repeat changes nothing
        subscriptions.confirm(subscriptions.version)
        #expect(subscriptions.isConfirmed)
        subscriptions.unconfirm()  // the connection dropped
        #expect(!subscriptions.isConfirmed)
    }

    @Test func anEmptySetIsNeverConfirmedAndKeepsNoConsumerReady() {
        let subscriptions = BackplaneSubscriptions()
        subscriptions.confirm(subscriptions.version)
        #expect(!subscriptions.isConfirmed)
        let stop = StopSignal()
        #expect(!subscriptions.waitForAny(stop: stop))
        subscriptions.add([.pattern("socketio#*")])
        #expect(subscriptions.waitForAny(stop: stop))
        stop.stop()
        #expect(!subscriptions.waitForAny(stop: stop))
    }
}
