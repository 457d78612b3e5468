// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {PriceFeed} from "../src/PriceFeed.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice The log-recording cheatcodes, which only this test needs.
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

contract PriceFeedTest is TestBase {
    VmLogs internal constant logs = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));

    PriceFeed internal feed;
    address internal owner = address(0x0BE);
    address internal updater = address(0x0DA7E);
    address internal mallory = address(0xBAD);

    function setUp() public {
        address[] memory updaters = new address[](1);
        updaters[0] = updater;
        feed = new PriceFeed(owner, updaters, 8, "ETH / USD");
    }

    function post(int256 answer) internal returns (uint80) {
        vm.prank(updater);
        return feed.update(answer);
    }

    function test_latestRoundDataFollowsUpdates() public {
        vm.warp(1_000);
        assertEq(post(3_000e8), 1, "first round is 1");
        vm.warp(2_000);
        assertEq(post(3_100e8), 2, "second round is 2");
        (uint80 round, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(round, 2, "round");
        assertEq(uint256(answer), 3_100e8, "answer");
        assertEq(startedAt, 2_000, "startedAt");
        assertEq(updatedAt, 2_000, "updatedAt");
        assertEq(answeredIn, 2, "answeredInRound");
        (, int256 first,, uint256 firstAt,) = feed.getRoundData(1);
        assertEq(uint256(first), 3_000e8, "history kept");
        assertEq(firstAt, 1_000, "history time kept");
        assertEq(feed.decimals(), 8, "decimals");
        assertEq(feed.version(), 2, "version");
        assertTrue(keccak256(bytes(feed.description())) == keccak256("ETH / USD"), "description");
    }

    function test_legacyInterfaceMatchesRoundData() public {
        vm.warp(1_000);
        post(3_000e8);
        vm.warp(1_500);
        post(2_900e8);
        assertEq(uint256(feed.latestAnswer()), 2_900e8, "latestAnswer");
        assertEq(feed.latestTimestamp(), 1_500, "latestTimestamp");
        assertEq(feed.latestRound(), 2, "latestRound");
        assertEq(uint256(feed.getAnswer(1)), 3_000e8, "getAnswer(1)");
        assertEq(feed.getTimestamp(1), 1_000, "getTimestamp(1)");
        // Chainlink's legacy getters answer 0 for a round that does not exist, rather than revert.
        assertEq(uint256(feed.getAnswer(3)), 0, "getAnswer of an unknown round");
        assertEq(feed.getTimestamp(3), 0, "getTimestamp of an unknown round");
    }

    function test_noDataBeforeFirstUpdate() public {
        assertEq(feed.latestRound(), 0, "latestRound");
        assertEq(uint256(feed.latestAnswer()), 0, "latestAnswer");
        assertEq(feed.latestTimestamp(), 0, "latestTimestamp");
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NoData.selector, uint256(0)));
        feed.latestRoundData();
    }

    function test_unknownRoundRevertsByName() public {
        post(1);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NoData.selector, uint256(0)));
        feed.getRoundData(0);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NoData.selector, uint256(2)));
        feed.getRoundData(2);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NoData.selector, uint256(type(uint80).max)));
        feed.getRoundData(type(uint80).max);
    }

    function test_updateEmitsNewRoundThenAnswerUpdated() public {
        vm.warp(7_777);
        logs.recordLogs();
        post(3_000e8);
        VmLogs.Log[] memory entries = logs.getRecordedLogs();
        assertEq(entries.length, 2, "two events");
        assertTrue(entries[0].topics[0] == keccak256("NewRound(uint256,address,uint256)"), "NewRound first");
        assertEq(uint256(entries[0].topics[1]), 1, "NewRound.roundId");
        assertEq(address(uint160(uint256(entries[0].topics[2]))), updater, "NewRound.startedBy");
        assertEq(abi.decode(entries[0].data, (uint256)), 7_777, "NewRound.startedAt");
        assertTrue(entries[1].topics[0] == keccak256("AnswerUpdated(int256,uint256,uint256)"), "AnswerUpdated second");
        assertEq(uint256(entries[1].topics[1]), 3_000e8, "AnswerUpdated.current");
        assertEq(uint256(entries[1].topics[2]), 1, "AnswerUpdated.roundId");
        assertEq(abi.decode(entries[1].data, (uint256)), 7_777, "AnswerUpdated.updatedAt");
        assertEq(entries[0].emitter, address(feed), "emitter");
    }

    // --- the updater role ---

    function test_attack_nonUpdaterCannotPost() public {
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NotUpdater.selector, mallory));
        feed.update(1e8);
        assertEq(feed.latestRound(), 0, "nothing posted");
    }

    function test_attack_ownerIsNotAnUpdaterUnlessGranted() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NotUpdater.selector, owner));
        feed.update(1e8);
    }

    function test_attack_nonOwnerCannotGrantItselfTheRole() public {
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, mallory));
        feed.setUpdater(mallory, true);
        assertTrue(!feed.isUpdater(mallory), "not granted");
    }

    function test_ownerGrantsAndRevokes() public {
        vm.prank(owner);
        feed.setUpdater(mallory, true);
        assertTrue(feed.isUpdater(mallory), "granted");
        vm.prank(mallory);
        feed.update(5e8);
        assertEq(uint256(feed.latestAnswer()), 5e8, "granted updater posts");
        vm.prank(owner);
        feed.setUpdater(mallory, false);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NotUpdater.selector, mallory));
        feed.update(6e8);
        assertEq(uint256(feed.latestAnswer()), 5e8, "revoked updater does not post");
    }

    function test_zeroAddressCannotBeAnUpdater() public {
        vm.prank(owner);
        vm.expectRevert(PriceFeed.ZeroUpdater.selector);
        feed.setUpdater(address(0), true);
    }

    // --- answers must be > 0 ---

    function test_attack_zeroPriceRejected() public {
        post(3_000e8);
        vm.prank(updater);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.AnswerNotPositive.selector, int256(0)));
        feed.update(0);
        assertEq(uint256(feed.latestAnswer()), 3_000e8, "the last good answer stands");
        assertEq(feed.latestRound(), 1, "no round added");
    }

    function test_attack_negativePriceRejected() public {
        vm.prank(updater);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.AnswerNotPositive.selector, int256(-1)));
        feed.update(-1);
        vm.prank(updater);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.AnswerNotPositive.selector, type(int256).min));
        feed.update(type(int256).min);
        assertEq(feed.latestRound(), 0, "nothing posted");
    }

    // --- timestamps ---

    function test_timestampCannotGoBack() public {
        vm.warp(2_000);
        post(1e8);
        vm.warp(1_999);
        vm.prank(updater);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.TimestampWentBack.selector, uint256(2_000), uint256(1_999)));
        feed.update(2e8);
    }

    function test_twoRoundsInOneBlockShareTheTime() public {
        vm.warp(3_000);
        post(1e8);
        post(2e8);
        assertEq(feed.getTimestamp(1), feed.getTimestamp(2), "same block, same time");
        assertEq(feed.latestRound(), 2, "both posted");
    }

    // --- fuzz ---

    function testFuzz_positiveAnswersRoundTrip(int256 answer, uint32 at) public {
        vm.assume(answer > 0);
        vm.warp(uint256(at) + 1);
        uint80 round = post(answer);
        (uint80 id, int256 got, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(id, round, "round id");
        assertTrue(got == answer, "answer");
        assertTrue(feed.latestAnswer() == answer, "latestAnswer");
        assertEq(startedAt, uint256(at) + 1, "startedAt");
        assertEq(updatedAt, uint256(at) + 1, "updatedAt");
        assertEq(answeredIn, round, "answeredInRound");
    }

    function testFuzz_nonPositiveAnswersRejected(int256 answer) public {
        vm.assume(answer <= 0);
        vm.prank(updater);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.AnswerNotPositive.selector, answer));
        feed.update(answer);
    }

    function testFuzz_onlyUpdatersPost(address caller) public {
        vm.assume(caller != updater);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NotUpdater.selector, caller));
        feed.update(1e8);
    }

    /// Every round of a sequence reads back as posted, ids count up from 1 and times never go back.
    function testFuzz_roundHistoryConsistent(uint256 seed) public {
        uint256 n = bound(seed, 1, 12);
        uint256 t = 1_000;
        int256[] memory answers = new int256[](n);
        for (uint256 i = 0; i < n; i++) {
            t += uint256(keccak256(abi.encode(seed, i, "dt"))) % 120;
            answers[i] = int256(uint256(keccak256(abi.encode(seed, i))) % 1e20) + 1;
            vm.warp(t);
            assertEq(post(answers[i]), i + 1, "round ids count up from 1");
        }
        uint256 previous = 0;
        for (uint256 i = 1; i <= n; i++) {
            (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = feed.getRoundData(uint80(i));
            assertEq(id, i, "id");
            assertTrue(answer == answers[i - 1] && answer > 0, "answer as posted, > 0");
            assertTrue(feed.getAnswer(i) == answer, "getAnswer agrees");
            assertEq(feed.getTimestamp(i), updatedAt, "getTimestamp agrees");
            assertEq(startedAt, updatedAt, "started and answered together");
            assertEq(answeredIn, i, "answered in its own round");
            assertTrue(updatedAt >= previous, "timestamps non-decreasing");
            previous = updatedAt;
        }
        assertEq(feed.latestRound(), n, "latestRound");
        assertEq(feed.latestTimestamp(), t, "latestTimestamp");
    }
}

/// @notice Random sequences of posts (good and bad answers, from updaters and strangers,
///         with the clock moving forward and sometimes back) and role changes.
contract FeedHandler is TestBase {
    PriceFeed internal feed;
    address internal owner;
    address[] internal actors;

    uint256 public accepted; // posts the feed took
    uint256 public wrongAccepts; // posts the feed took that it should have refused: must stay zero
    uint256 public strangerGrants; // role changes by a non-owner that went through: must stay zero

    constructor(PriceFeed feed_, address owner_, address[] memory actors_) {
        feed = feed_;
        owner = owner_;
        actors = actors_;
    }

    function post(uint256 who, int256 answer, uint32 forward) external {
        address a = actors[who % actors.length];
        vm.warp(block.timestamp + (forward % 600));
        bool shouldTake = feed.isUpdater(a) && answer > 0;
        vm.prank(a);
        try feed.update(answer) {
            accepted++;
            if (!shouldTake) wrongAccepts++;
        } catch {}
    }

    function postAfterClockRanBack(uint256 who, int256 answer, uint16 back) external {
        address a = actors[who % actors.length];
        uint256 last = feed.latestTimestamp();
        uint256 to = last > back ? last - 1 - (back % last) : block.timestamp;
        vm.warp(to);
        vm.prank(a);
        try feed.update(answer) {
            accepted++;
            if (to < last) wrongAccepts++;
        } catch {}
        vm.warp(last > block.timestamp ? last : block.timestamp); // the clock of a real chain never runs back
    }

    function setRole(uint256 who, uint256 by, bool allowed) external {
        address a = actors[who % actors.length];
        address caller = by % 2 == 0 ? owner : actors[by % actors.length];
        vm.prank(caller);
        try feed.setUpdater(a, allowed) {
            if (caller != owner) strangerGrants++;
        } catch {}
    }
}

contract PriceFeedInvariants is TestBase {
    PriceFeed internal feed;
    FeedHandler internal handler;

    function setUp() public {
        address owner = address(0x0BE);
        address[] memory updaters = new address[](1);
        updaters[0] = address(0x0DA7E);
        feed = new PriceFeed(owner, updaters, 8, "ETH / USD");
        address[] memory actors = new address[](4);
        actors[0] = address(0x0DA7E);
        actors[1] = address(0xBAD);
        actors[2] = owner;
        actors[3] = address(0xCAFE);
        vm.warp(1_000);
        handler = new FeedHandler(feed, owner, actors);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_onlyUpdatersPostPositiveAnswers() public view {
        assertEq(handler.wrongAccepts(), 0, "posts the feed should have refused");
        assertEq(handler.strangerGrants(), 0, "role changes by a non-owner");
        assertEq(feed.latestRound(), handler.accepted(), "one round per accepted post");
    }

    function invariant_roundsPositiveAndTimesNonDecreasing() public view {
        uint256 latest = feed.latestRound();
        uint256 previous = 0;
        for (uint256 i = 1; i <= latest; i++) {
            (uint80 id, int256 answer,, uint256 updatedAt, uint80 answeredIn) = feed.getRoundData(uint80(i));
            assertEq(id, i, "id");
            assertEq(answeredIn, i, "answeredInRound");
            assertTrue(answer > 0, "answer > 0");
            assertTrue(updatedAt >= previous, "timestamps non-decreasing");
            previous = updatedAt;
        }
        if (latest > 0) {
            (uint80 id, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
            assertEq(id, latest, "latestRoundData is the latest round");
            assertTrue(answer == feed.latestAnswer(), "latestAnswer agrees");
            assertEq(updatedAt, feed.latestTimestamp(), "latestTimestamp agrees");
        }
    }
}
