// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DisputeFixture, VmLogs} from "./DisputeFixture.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";
import {DisputeGame} from "../src/dispute/DisputeGame.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {TensorMerkle} from "../src/dispute/TensorMerkle.sol";
import {TensorMerkleHarness} from "../src/dispute/TensorMerkleHarness.sol";

/// @notice Attacks on the dispute protocol, each played on the real contracts and shown
///         to fail: the attacker is a trainer hiding a lie or a challenger framing an
///         honest trainer (issue #9's audit findings).
contract DisputeAttacksTest is DisputeFixture {
    // ---------------------------------------------------------------- padding

    /// @dev The honest run, except that the trainer commits p' with the right values
    ///      and a non-zero padding word in its (only, last) leaf.
    function paddedRun() internal pure returns (Run memory r, bytes memory padded) {
        r = honest();
        padded = words(r.pOut);
        padded[31] = 0x01;
        bytes32 leaf = keccak256(bytes.concat(bytes1(0), padded));
        r.trace[3] = keccak256(abi.encodePacked(leaf, uint256(2), uint8(0)));
        r.s1 = keccak256(abi.encodePacked(nodeRoot(list(r.trace[3], r.trace[1], r.trace[2])), uint256(1)));
        r.records[1] = recordHash(r.s1, LOSS1);
        r.transcript = keccak256(abi.encodePacked(nodeRoot(r.records), uint256(2)));
    }

    /// Audit finding 1: a root whose values are right but whose padding is not zero is
    /// another root for the same values. The trainer can no longer open it, so the
    /// challenger who pinpoints an element of its last leaf wins: whatever bit of a
    /// committed root differs from the honest one, the trainer loses.
    function test_garbagePaddingIsSlashed() public {
        (Run memory r, bytes memory padded) = paddedRun();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.prank(challenger);
        game.pinpoint(id, stepPinpoint(r, 1));
        assertEq(game.getDispute(id).expected, ONE, "the value itself is right");

        // The committed leaf, padding and all: refused.
        StepOps.Opening memory o = StepOps.Opening({length: 2, dtype: 0, firstLeaf: 0, words: padded, siblings: new bytes32[](0)});
        vm.expectRevert(abi.encodeWithSelector(TensorMerkle.NonZeroPadding.selector, 2, bytes32(padded)));
        vm.prank(trainer);
        game.reveal(id, o);
        // The same values with zero padding: not the committed root.
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.OpeningMismatch.selector, tensorRoot(r.pOut), r.trace[3]));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));

        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.RevealTimeout, "reveal timeout");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "trainer slashed");
    }

    /// Every range that reaches the last leaf checks its padding, for every length mod 8
    /// and every padding word; ranges that stop before the last leaf do not read it.
    function testFuzz_paddingIsPartOfTheRoot(uint8 lengthSeed, uint8 wordSeed, uint32 garbage) public {
        TensorMerkleHarness h = new TensorMerkleHarness();
        uint256 length = 9 + uint256(lengthSeed) % 7; // two leaves, 1..7 elements in the last
        uint32[] memory v = new uint32[](length);
        for (uint256 i = 0; i < length; i++) v[i] = uint32(i + 1);
        bytes32 root = tensorRoot(v);
        StepOps.Opening memory last = leafOpening(v, 1);
        assertEq(uint256(h.rootFromRange(length, 0, 1, last.words, last.siblings)), uint256(root), "honest last leaf");

        uint256 used = length - 8;
        uint256 w = used + uint256(wordSeed) % (8 - used); // a padding word
        if (garbage == 0) garbage = 1;
        bytes memory bad = last.words;
        for (uint256 b = 0; b < 4; b++) bad[w * 4 + b] = bytes1(uint8(garbage >> (24 - 8 * b)));
        bytes32 leafWords;
        assembly {
            leafWords := mload(add(bad, 32))
        }
        vm.expectRevert(abi.encodeWithSelector(TensorMerkle.NonZeroPadding.selector, length, leafWords));
        h.rootFromRange(length, 0, 1, bad, last.siblings);

        StepOps.Opening memory first = leafOpening(v, 0);
        assertEq(uint256(h.rootFromRange(length, 0, 0, first.words, first.siblings)), uint256(root), "first leaf");
    }

    // ---------------------------------------------------------------- order of disputes

    /// Finding 6: the cheater's puppet opens a second dispute, the cheater stalls the
    /// honest one and lets its puppet win first by trace timeout; the slash still goes
    /// to the honest challenger, whose dispute opened first.
    function test_puppetCannotTakeTheHonestChallengersSlash() public {
        Run memory r = run(vec(ONE, ONE), vec(TWO, ONE));
        uint256 jobId = submitted(r);
        uint256 honestId = openStep(jobId, r);
        vm.prank(challenger2); // the puppet
        uint256 puppetId = game.open(jobId, 0, header(), stepProof(r));
        uint256 c = token.balanceOf(challenger);
        uint256 p = token.balanceOf(challenger2);

        vm.warp(block.timestamp + game.moveTime() - 1);
        vm.prank(trainer);
        game.postOpTrace(honestId, r.trace); // stalled to the last second
        vm.prank(challenger);
        game.pinpoint(honestId, stepPinpoint(r, 0));
        vm.warp(game.getDispute(puppetId).deadline + 1);
        game.timeout(puppetId); // the puppet wins first
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted, "not settled yet");

        vm.prank(trainer);
        game.reveal(honestId, opening(r.pOut));
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2 + game.bond(), "honest challenger paid: half the stake and its bond");
        assertEq(token.balanceOf(challenger2) - p, game.bond(), "puppet: its bond back, nothing more");
    }

    /// Finding 11: a dispute keeps the move time it opened with; governance shortening it
    /// mid-dispute cannot make an honest party miss a deadline.
    function test_moveTimeIsFixedWhenTheDisputeOpens() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        uint96 bond = game.bond();
        uint64 shortest = game.MIN_MOVE_TIME();
        vm.prank(governance);
        game.setParameters(bond, shortest);
        vm.warp(block.timestamp + shortest + 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.DeadlineNotPassed.selector, id, game.getDispute(id).deadline));
        game.timeout(id);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        assertEq(game.getDispute(id).deadline, block.timestamp + 1 hours, "the dispute's own move time");
    }

    // ---------------------------------------------------------------- data availability

    function valuesRequest(Run memory r, uint256 firstLeaf, uint256 leaves) internal pure returns (DisputeGameTypes.ValuesRequest memory q) {
        q.opIndex = 3;
        q.op = stepOp(3);
        q.opProof = nodeProof(opLeaves(false), 3);
        q.outputRoot = r.trace[3];
        q.outputProof = nodeProof(r.trace, 3);
        q.firstLeaf = firstLeaf;
        q.leaves = leaves;
    }

    /// Finding 5: the trainer posted its op roots but withholds the values of the op
    /// that lies. The challenger forces them out on-chain: the trainer reveals them (and
    /// the challenger then pinpoints the lie), or it is slashed by timeout.
    function test_withheldValuesAreForcedOut() public {
        Run memory r = run(vec(ONE, ONE), vec(ONE, TWO));
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.prank(challenger);
        game.requestValues(id, valuesRequest(r, 0, 8));
        assertTrue(phaseOf(id) == DisputeGameTypes.Phase.AwaitValues, "trainer must reveal");
        assertEq(game.getDispute(id).requestedLeaves, 1, "cut at the tensor's end");
        // the revealed values come out in an event, and the challenger pinpoints the lie
        vm.prank(trainer);
        game.provideValues(id, opening(r.pOut));
        assertTrue(phaseOf(id) == DisputeGameTypes.Phase.AwaitPinpoint, "challenger's move");
        vm.prank(challenger);
        game.pinpoint(id, stepPinpoint(r, 1));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Mismatch, "caught");
    }

    function test_withholdingValuesLosesByTimeout() public {
        Run memory r = run(vec(ONE, ONE), vec(ONE, TWO));
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.prank(challenger);
        game.requestValues(id, valuesRequest(r, 0, 1));
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.ValuesTimeout, "values timeout");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    /// A challenger cannot frame an honest trainer with requests it cannot answer (past
    /// the tensor, of another root, too many), and an honest trainer who answers every
    /// request wins when the challenger finds nothing.
    function test_requestsCannotFrameAnHonestTrainer() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.BadRequest.selector, 1, 1, 1));
        vm.prank(challenger);
        game.requestValues(id, valuesRequest(r, 1, 1));
        DisputeGameTypes.ValuesRequest memory q = valuesRequest(r, 0, 1);
        q.outputRoot = tensorRoot(vec(TWO, TWO));
        vm.expectRevert();
        vm.prank(challenger);
        game.requestValues(id, q);
        for (uint256 i = 0; i < game.MAX_REQUESTS(); i++) {
            vm.prank(challenger);
            game.requestValues(id, valuesRequest(r, 0, 1));
            vm.prank(trainer);
            game.provideValues(id, opening(r.pOut));
        }
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.TooManyRequests.selector, id));
        vm.prank(challenger);
        game.requestValues(id, valuesRequest(r, 0, 1));
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.PinpointTimeout, "trainer wins");
        vm.warp(block.timestamp + 1 hours);
        market.finalize(jobId);
    }

    /// Finding 5, transcript: a challenger who does not have the trainer's records (to
    /// find the first wrong step) queries them; the trainer answers with proofs and is
    /// paid the query bond, or is slashed.
    function test_queriedRecordsAreForcedOut() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint32[] memory indices = new uint32[](2);
        (indices[0], indices[1]) = (1, 0);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.BadQuery.selector, 1, 2));
        vm.prank(challenger);
        game.openQuery(jobId, _one(2));
        vm.prank(challenger);
        uint256 id = game.openQuery(jobId, indices);
        assertTrue(phaseOf(id) == DisputeGameTypes.Phase.AwaitRecords, "trainer must answer");
        DisputeGameTypes.Record[] memory records = new DisputeGameTypes.Record[](2);
        (records[0], records[1]) = (DisputeGameTypes.Record(r.s1, LOSS1), DisputeGameTypes.Record(r.s0, LOSS0));
        bytes32[][] memory proofs = new bytes32[][](2);
        (proofs[0], proofs[1]) = (nodeProof(r.records, 1), nodeProof(r.records, 0));
        // a wrong record does not prove
        DisputeGameTypes.Record[] memory wrong = new DisputeGameTypes.Record[](2);
        (wrong[0], wrong[1]) = (DisputeGameTypes.Record(r.s1, LOSS0), records[1]);
        vm.expectRevert();
        vm.prank(trainer);
        game.postRecords(id, indices, wrong, proofs);
        uint256 t = token.balanceOf(trainer);
        VmLogs(address(vm)).recordLogs();
        vm.prank(trainer);
        game.postRecords(id, indices, records, proofs);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Answered, "answered");
        _assertProofsLogged(id, proofs);
        assertEq(token.balanceOf(trainer) - t, game.queryBond(), "the bond pays the trainer");
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
    }

    /// @dev The RecordsPosted log of query `id` carries `proofs`: an asker reads them there,
    ///      however the answer was sent (a contract wallet's or an EIP-7702 account's call
    ///      leaves no postRecords calldata to read).
    function _assertProofsLogged(uint256 id, bytes32[][] memory proofs) internal {
        VmLogs.Log[] memory logs = VmLogs(address(vm)).getRecordedLogs();
        uint256 found;
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter != address(game) || logs[i].topics[0] != DisputeGameTypes.RecordsPosted.selector) continue;
            assertEq(uint256(logs[i].topics[1]), id, "query id");
            (,, bytes32[][] memory logged) = abi.decode(logs[i].data, (uint32[], DisputeGameTypes.Record[], bytes32[][]));
            assertEq(uint256(keccak256(abi.encode(logged))), uint256(keccak256(abi.encode(proofs))), "the proofs");
            found++;
        }
        assertEq(found, 1, "one RecordsPosted");
    }

    function test_unansweredQuerySlashes() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        vm.prank(challenger);
        uint256 id = game.openQuery(jobId, _one(1));
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.RecordsTimeout, "records timeout");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    /// @dev The trainer answers query `id` of one record `index` of run `r`.
    function _answer(uint256 id, Run memory r, uint32 index) internal {
        DisputeGameTypes.Record[] memory records = new DisputeGameTypes.Record[](1);
        records[0] = index == 0 ? DisputeGameTypes.Record(r.s0, LOSS0) : DisputeGameTypes.Record(r.s1, LOSS1);
        bytes32[][] memory proofs = new bytes32[][](1);
        proofs[0] = nodeProof(r.records, index);
        vm.prank(trainer);
        game.postRecords(id, _one(index), records, proofs);
    }

    /// Review finding: a challenger with no run needs the answers to its queries before it
    /// can open, and a cheater answers each at its deadline to run it out of the window.
    /// An answer holds the job open for one move time more: the challenger still opens,
    /// finalisation waits, and the liar is slashed.
    function test_anAnswerAtTheDeadlineLeavesTheAskerTimeToDispute() public {
        Run memory r = run(vec(ONE, ONE), vec(TWO, ONE));
        uint256 jobId = submitted(r);
        uint64 windowEnds = market.getJob(jobId).submittedAt + 1 hours;
        vm.warp(windowEnds - 1);
        vm.prank(challenger);
        uint256 q = game.openQuery(jobId, _one(1));
        vm.warp(game.getDispute(q).deadline); // the answer at the last moment, past the window
        _answer(q, r, 1);
        assertEq(market.holdUntil(jobId), uint64(block.timestamp) + game.moveTime(), "held one move time more");
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WindowOpen.selector, jobId, market.holdUntil(jobId)));
        market.finalize(jobId);
        vm.warp(block.timestamp + game.moveTime() - 1);
        playStep(openStep(jobId, r), r);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    /// ...and the hold ends: an asker's answers hold a job MAX_HOLDS times at most, each
    /// costing it a query bond (paid to the trainer); then the job finalizes.
    function test_anAskersAnswersHoldAJobTwelveTimesAtMost() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        vm.warp(market.getJob(jobId).submittedAt + 1 hours); // its first query inside the window
        uint256 paid = token.balanceOf(trainer);
        uint256 n = uint256(market.MAX_HOLDS()) + 1;
        for (uint256 i = 0; i < n; i++) {
            uint64 before = market.holdUntil(jobId);
            vm.prank(challenger2);
            uint256 q = game.openQuery(jobId, _one(1));
            _answer(q, r, 1);
            // The first MAX_HOLDS answers hold it one move time more; the next, nothing.
            assertEq(market.holdUntil(jobId), i + 1 < n ? uint64(block.timestamp) + game.moveTime() : before, "the hold");
            vm.warp(block.timestamp + game.moveTime() - 1);
        }
        assertEq(token.balanceOf(trainer) - paid, n * game.queryBond(), "every query paid the trainer");
        uint64 ends = market.holdUntil(jobId);
        vm.warp(ends + 1);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WindowClosed.selector, jobId, ends));
        vm.prank(challenger2);
        game.openQuery(jobId, _one(1));
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalized");
    }

    /// Review finding: accounts made after the window (sybils) would hold a job without
    /// end, a bond an hour. Only an asker who queried inside the window gets holds.
    function test_anAskerFromAfterTheWindowHoldsNothing() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        vm.warp(market.getJob(jobId).submittedAt + 1 hours - 1);
        vm.prank(challenger);
        _answer(game.openQuery(jobId, _one(1)), r, 1); // an in-window asker's answer: held
        uint64 held = market.holdUntil(jobId);
        vm.warp(market.getJob(jobId).submittedAt + 1 hours + 1);
        vm.prank(challenger2); // its first query after the window, inside the hold
        _answer(game.openQuery(jobId, _one(1)), r, 1);
        assertEq(market.holdUntil(jobId), held, "no hold for it");
        assertTrue(!game.askedInWindow(jobId, challenger2), "not asked in the window");
        vm.warp(held + 1);
        market.finalize(jobId);
    }

    /// Review finding: an honest trainer's answer must land whatever happened since the
    /// query opened: its game revoked (an upgrade), or the job slashed by another dispute.
    function test_anAnswerLandsAfterTheGameIsRevoked() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        vm.prank(challenger);
        uint256 q = game.openQuery(jobId, _one(1));
        vm.prank(governance);
        market.setDisputeGame(address(game), false);
        _answer(q, r, 1);
        assertTrue(game.getDispute(q).reason == DisputeGameTypes.Reason.Answered, "answered");
        assertEq(market.holdUntil(jobId), uint64(block.timestamp) + game.moveTime(), "still the game of its query: it holds, as it resolves");
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "paid, not slashed");
    }

    function _one(uint32 index) internal pure returns (uint32[] memory l) {
        l = new uint32[](1);
        l[0] = index;
    }

    // ---------------------------------------------------------------- the recorded loss

    /// @dev The honest run whose record 0 commits to `lossBits` as the loss of step 0.
    function withLoss(uint32 lossBits) internal pure returns (Run memory r) {
        r = honest();
        r.records[0] = recordHash(r.s0, lossBits);
        r.transcript = keccak256(abi.encodePacked(nodeRoot(r.records), uint256(2)));
    }

    function openWithLoss(uint256 jobId, Run memory r, uint32 lossBits) internal returns (uint256 id) {
        DisputeGameTypes.StepProof memory p = stepProof(r);
        p.recordBefore.lossBits = lossBits;
        vm.prank(challenger);
        id = game.open(jobId, 0, header(), p);
    }

    /// Finding 11: a trainer whose states are right but whose transcript records a loss
    /// that is not its own loss op's output is slashed: the loss op here is op 0 (x, whose
    /// element 0 is 1.0), the record says pi.
    function test_aLieAboutTheLossIsSlashed() public {
        Run memory r = withLoss(LOSS0);
        uint256 jobId = submitted(r);
        uint256 id = openWithLoss(jobId, r, LOSS0);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.prank(challenger);
        game.pinpointLoss(id, stepOp(0), nodeProof(opLeaves(false), 0), r.trace[0], nodeProof(r.trace, 0));
        assertEq(game.getDispute(id).expected, LOSS0, "the recorded loss");
        vm.prank(trainer);
        game.reveal(id, opening(r.p0));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Mismatch, "caught");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    /// ...and a trainer whose recorded loss is its loss op's output wins.
    function test_aTrueLossWins() public {
        Run memory r = withLoss(ONE);
        uint256 jobId = submitted(r);
        uint256 id = openWithLoss(jobId, r, ONE);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        // the loss op is fixed by the program: another op is refused
        vm.expectRevert();
        vm.prank(challenger);
        game.pinpointLoss(id, stepOp(3), nodeProof(opLeaves(false), 3), r.trace[3], nodeProof(r.trace, 3));
        vm.prank(challenger);
        game.pinpointLoss(id, stepOp(0), nodeProof(opLeaves(false), 0), r.trace[0], nodeProof(r.trace, 0));
        vm.prank(trainer);
        game.reveal(id, opening(r.p0));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Match, "trainer wins");
    }

    /// An INIT dispute has no loss to dispute.
    function test_noLossDisputeAtInit() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openInit(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.NoLossAtInit.selector, id));
        vm.prank(challenger);
        game.pinpointLoss(id, stepOp(0), nodeProof(opLeaves(false), 0), r.slots[0], nodeProof(r.slots, 0));
    }

    // ---------------------------------------------------------------- floods and self-challenges

    /// Review finding: a flood of queries opened in one block must not make an honest
    /// trainer miss a deadline. Each owed move gets its own move time, one after the other:
    /// a trainer answering one query an hour answers all of them in time.
    function test_aFloodOfQueriesGivesTheTrainerTimeForEach() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 n = 5;
        uint256[] memory ids = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            vm.prank(challenger);
            ids[i] = game.openQuery(jobId, _one(1));
            assertEq(game.getDispute(ids[i]).deadline, block.timestamp + (i + 1) * game.moveTime(), "one move time per owed move");
        }
        DisputeGameTypes.Record[] memory records = new DisputeGameTypes.Record[](1);
        records[0] = DisputeGameTypes.Record(r.s1, LOSS1);
        bytes32[][] memory proofs = new bytes32[][](1);
        proofs[0] = nodeProof(r.records, 1);
        for (uint256 i = 0; i < n; i++) {
            vm.warp(block.timestamp + game.moveTime() - 1); // an answer an hour, each just in time
            vm.prank(trainer);
            game.postRecords(ids[i], _one(1), records, proofs);
        }
        assertEq(game.trainerMovesDue(jobId), 0, "nothing owed");
        vm.warp(block.timestamp + game.moveTime() + 1); // past the hold the last answer gave its asker
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "paid");
    }

    /// Review finding: a trainer cannot dispute or query its own job (a standing
    /// self-challenge to take the challenger's share).
    function test_aTrainerCannotChallengeItself() public {
        Run memory r = run(vec(ONE, ONE), vec(TWO, ONE));
        uint256 jobId = submitted(r);
        vm.prank(trainer);
        token.approve(address(game), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.SelfChallenge.selector, jobId, trainer));
        vm.prank(trainer);
        game.openQuery(jobId, _one(1));
        DisputeGameTypes.Header memory h = header();
        DisputeGameTypes.StepProof memory p = stepProof(r);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.SelfChallenge.selector, jobId, trainer));
        vm.prank(trainer);
        game.open(jobId, 0, h, p);
    }

    /// Review finding: a puppet's query opened first and left unanswered slashes the
    /// cheater, but the challenger's share goes to the honest dispute that proved the lie.
    function test_aStandingPuppetQueryTakesNoShare() public {
        Run memory r = run(vec(ONE, ONE), vec(TWO, ONE));
        uint256 jobId = submitted(r);
        vm.prank(challenger2); // the puppet, first
        uint256 q = game.openQuery(jobId, _one(1));
        uint256 id = openStep(jobId, r);
        uint256 p = token.balanceOf(challenger2);
        uint256 c = token.balanceOf(challenger);
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(q); // the cheater leaves its puppet's query unanswered
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted, "waits for the open dispute");
        playStep(id, r);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2 + game.bond(), "the honest challenger takes the share");
        assertEq(token.balanceOf(challenger2) - p, game.queryBond(), "the puppet: its query bond back, nothing more");
    }

    /// ...and a query left unanswered with no dispute won slashes to the treasury alone.
    function test_anUnansweredQueryAloneSlashesToTheTreasury() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        vm.prank(challenger);
        uint256 q = game.openQuery(jobId, _one(1));
        uint256 c = token.balanceOf(challenger);
        uint256 t = token.balanceOf(requester);
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(q);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
        assertEq(token.balanceOf(challenger) - c, game.queryBond(), "bond back, no share");
        assertEq(token.balanceOf(requester) - t, REWARD + JOB_STAKE, "reward back and the whole stake to the treasury");
    }

    // ---------------------------------------------------------------- the last record's loss

    /// @dev An evaluation dispute over record 1 (the last of a one-step job): S_1's slots
    ///      (p' = p, m', v') and the trace of the identity step run on them.
    function openEvaluation(uint256 jobId, Run memory r, uint32 lossBits) internal returns (uint256 id, bytes32[] memory trace) {
        DisputeGameTypes.StepProof memory p;
        p.recordBefore = DisputeGameTypes.Record(r.s1, lossBits);
        p.beforeProof = nodeProof(r.records, 1);
        p.afterProof = new bytes32[](0);
        p.slotsRoot = nodeRoot(list(r.trace[3], r.trace[1], r.trace[2]));
        vm.prank(challenger);
        id = game.open(jobId, 1, header(), p);
        trace = new bytes32[](4);
        (trace[0], trace[1], trace[2], trace[3]) = (r.trace[3], r.trace[1], r.trace[2], r.trace[3]);
    }

    function withLastLoss(uint32 lossBits) internal pure returns (Run memory r) {
        r = honest();
        r.records[1] = recordHash(r.s1, lossBits);
        r.transcript = keccak256(abi.encodePacked(nodeRoot(r.records), uint256(2)));
    }

    /// The last record's loss is an evaluation of S_T, not a step: a lie about it is
    /// disputed over step T, whose trace binds no next state, at the loss op.
    function test_aLieAboutTheLastLossIsSlashed() public {
        Run memory r = withLastLoss(LOSS1); // the loss op (x = p of S_1) is 1.0, the record says 3.0
        uint256 jobId = submitted(r);
        (uint256 id, bytes32[] memory trace) = openEvaluation(jobId, r, LOSS1);
        assertTrue(game.getDispute(id).evaluation, "an evaluation dispute");
        vm.prank(trainer);
        game.postOpTrace(id, trace);
        vm.prank(challenger);
        game.pinpointLoss(id, stepOp(0), nodeProof(opLeaves(false), 0), trace[0], nodeProof(trace, 0));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Mismatch, "caught");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    function test_aTrueLastLossWins() public {
        Run memory r = withLastLoss(ONE);
        uint256 jobId = submitted(r);
        (uint256 id, bytes32[] memory trace) = openEvaluation(jobId, r, ONE);
        vm.prank(trainer);
        game.postOpTrace(id, trace);
        vm.prank(challenger);
        game.pinpointLoss(id, stepOp(0), nodeProof(opLeaves(false), 0), trace[0], nodeProof(trace, 0));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Match, "trainer wins");
    }
}
