// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DisputeFixture, VmLogs, NodeMerkleHarness} from "./DisputeFixture.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";
import {DisputeGame} from "../src/dispute/DisputeGame.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {Openings} from "../src/dispute/Openings.sol";
import {NodeMerkle} from "../src/dispute/NodeMerkle.sol";

/// @notice Whole disputes on the real contracts: token, registry, market, the StepVerifier
///         with its provers, and the game authorised by the market (fixtures in DisputeFixture.sol).
contract DisputeGameTest is DisputeFixture {
    // ---------------------------------------------------------------- whole games

    /// (a) An honest trainer answers a pinpoint on a correct element: the challenger's
    ///     bond is the trainer's, and the job finalises after the window.
    function test_honestInitDisputeTrainerWins() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 t = token.balanceOf(trainer);
        uint256 c = token.balanceOf(challenger);
        uint256 id = openInit(jobId, r);
        uint256 bond = game.bond();
        assertEq(token.balanceOf(address(game)), bond, "bond held");
        assertEq(market.getJob(jobId).openDisputes, 1, "market holds the job");

        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.prank(challenger);
        game.pinpoint(id, initPinpoint(r, 0, 1));
        DisputeGameTypes.Dispute memory d = game.getDispute(id);
        assertEq(d.expected, ONE, "verifier's value");
        assertEq(d.outputLength, 2, "output length");
        vm.prank(trainer);
        game.reveal(id, opening(r.p0));

        d = game.getDispute(id);
        assertTrue(d.phase == DisputeGameTypes.Phase.Resolved, "resolved");
        assertTrue(d.reason == DisputeGameTypes.Reason.Match, "match");
        assertEq(d.moves, 3, "three moves after open");
        assertEq(token.balanceOf(trainer) - t, bond, "bond to the trainer");
        assertEq(c - token.balanceOf(challenger), bond, "challenger lost its bond");
        assertEq(token.balanceOf(address(game)), 0, "game empty");
        assertEq(market.getJob(jobId).openDisputes, 0, "hold lifted");

        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalized");
        assertEq(token.balanceOf(trainer) - t, bond + REWARD, "reward paid too");
    }

    /// (b) The trainer committed p = [1, 2] where the init program fills 1.0: the
    ///     challenger pinpoints element 1 and the trainer's own opening convicts it.
    function test_corruptInitSlotIsSlashed() public {
        Run memory r = run(vec(ONE, TWO), vec(ONE, TWO));
        uint256 jobId = submitted(r);
        uint256 c = token.balanceOf(challenger);
        uint256 q = token.balanceOf(requester);
        uint256 staked = registry.nodeOf(trainer).staked;
        uint256 id = openInit(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.prank(challenger);
        game.pinpoint(id, initPinpoint(r, 0, 1));
        vm.prank(trainer);
        game.reveal(id, opening(r.p0));

        DisputeGameTypes.Dispute memory d = game.getDispute(id);
        assertTrue(d.reason == DisputeGameTypes.Reason.Mismatch, "mismatch");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2, "challenger: half the stake, bond back");
        assertEq(token.balanceOf(requester) - q, REWARD + JOB_STAKE / 2, "requester: reward back + treasury half");
        assertEq(staked - registry.nodeOf(trainer).staked, JOB_STAKE, "job stake slashed");
        assertEq(registry.nodeOf(trainer).locked, 0, "nothing left locked");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "job slashed");
        assertEq(token.balanceOf(address(game)), 0, "game empty");
        assertEq(token.balanceOf(address(market)), 0, "market empty");
    }

    /// (c) No trace by the deadline: the challenger wins.
    function test_silentTrainerLosesByTimeout() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 c = token.balanceOf(challenger);
        uint256 id = openInit(jobId, r);
        uint64 deadline = game.getDispute(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.DeadlineNotPassed.selector, id, deadline));
        game.timeout(id);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.DeadlinePassed.selector, id, deadline));
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.prank(validator); // anyone
        game.timeout(id);
        DisputeGameTypes.Dispute memory d = game.getDispute(id);
        assertTrue(d.reason == DisputeGameTypes.Reason.TraceTimeout, "trace timeout");
        assertEq(d.moves, 0, "no moves");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2, "challenger paid, bond back");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "job slashed");
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.AlreadyResolved.selector, id));
        game.timeout(id);
    }

    /// (d) No pinpoint by the deadline: the trainer wins the bond.
    function test_silentChallengerLosesByTimeout() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 t = token.balanceOf(trainer);
        uint256 id = openInit(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        DisputeGameTypes.Dispute memory d = game.getDispute(id);
        assertTrue(d.reason == DisputeGameTypes.Reason.PinpointTimeout, "pinpoint timeout");
        assertEq(d.moves, 1, "one move");
        assertEq(token.balanceOf(trainer) - t, game.bond(), "bond to the trainer");
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalized");
    }

    /// No reveal by the deadline: the challenger wins.
    function test_unrevealedElementLosesByTimeout() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openInit(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.prank(challenger);
        game.pinpoint(id, initPinpoint(r, 1, 0));
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.RevealTimeout, "reveal timeout");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "job slashed");
    }

    /// A step dispute: the trace rebuilds S_1 (p', m', v' reordered into p, m, v), an OP
    /// input is proven against the trace, and the honest trainer wins.
    function test_honestStepDisputeTrainerWins() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        DisputeGameTypes.Dispute memory d = game.getDispute(id);
        assertEq(d.opsCount, 4, "step program");
        assertEq(uint256(d.slotsRoot), uint256(r.slotsRoot), "slots of S_0");
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        assertEq(uint256(game.getDispute(id).traceRoot), uint256(nodeRoot(r.trace)), "trace root");
        vm.prank(challenger);
        game.pinpoint(id, stepPinpoint(r, 1));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Match, "match");
        assertEq(game.getDispute(id).moves, 3, "three moves");
    }

    /// The trainer's p' = COPY x has a wrong element 0: S_1 commits it, the challenger
    /// pinpoints it and wins.
    function test_corruptStepOutputIsSlashed() public {
        Run memory r = run(vec(ONE, ONE), vec(TWO, ONE));
        uint256 jobId = submitted(r);
        uint256 c = token.balanceOf(challenger);
        uint256 id = openStep(jobId, r);
        playStep(id, r);
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Mismatch, "mismatch");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2, "challenger paid");
    }

    /// A SLOT input is proven against the slots root of S_t; a wrong slot root is refused.
    function test_slotInputsAreBoundToTheState() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        DisputeGameTypes.Pinpoint memory p = slotPinpoint(r, 0);
        bytes32 fake = tensorRoot(vec(TWO, TWO));
        p.inputRoots[0].root = fake;
        bytes32 have = pair(pair(fake, r.slots[1]), pair(r.slots[2], empty(0)));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InputMismatch.selector, 0, have, r.slotsRoot));
        vm.prank(challenger);
        game.pinpoint(id, p);
        // the verifier checks the opening against the bound root
        p = slotPinpoint(r, 0);
        p.openings[0] = opening(vec(TWO, ONE));
        vm.expectRevert(abi.encodeWithSelector(Openings.WrongRoot.selector, 0, tensorRoot(vec(TWO, ONE)), r.slots[0]));
        vm.prank(challenger);
        game.pinpoint(id, p);
        vm.prank(challenger);
        game.pinpoint(id, slotPinpoint(r, 0));
        assertEq(game.getDispute(id).expected, ONE, "read from p of S_0");
    }

    /// Two disputes on one job: the first slashes it, the second settles only its bond.
    function test_secondDisputeAfterASlashSettlesItsBond() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 first = openInit(jobId, r);
        vm.prank(challenger2);
        uint256 second = game.open(jobId, INIT, header(), initProof(r));
        assertEq(market.getJob(jobId).openDisputes, 2, "two holds");
        uint256 c2 = token.balanceOf(challenger2);
        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(first);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed by the first");
        // the trainer owed two moves at once: the second had a move time more
        vm.warp(game.getDispute(second).deadline + 1);
        game.timeout(second);
        assertTrue(game.getDispute(second).phase == DisputeGameTypes.Phase.Resolved, "second resolved");
        assertEq(token.balanceOf(challenger2) - c2, game.bond(), "second challenger's bond back");
        assertEq(token.balanceOf(address(game)), 0, "game empty");
    }

    /// The trace roots are in the logs, for a challenger that did not see the calldata.
    function test_traceRootsAreLogged() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        VmLogs(address(vm)).recordLogs();
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        VmLogs.Log[] memory logs = VmLogs(address(vm)).getRecordedLogs();
        assertEq(logs.length, 1, "one event");
        assertEq(uint256(logs[0].topics[0]), uint256(DisputeGameTypes.OpTracePosted.selector), "OpTracePosted");
        assertEq(uint256(logs[0].topics[1]), id, "dispute id");
        bytes32[] memory roots = abi.decode(logs[0].data, (bytes32[]));
        assertEq(uint256(nodeRoot(roots)), uint256(nodeRoot(r.trace)), "the roots");
    }

    // ---------------------------------------------------------------- refusals

    function test_openRefusals() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        DisputeGameTypes.Header memory h = header();
        h.stepOps = 5;
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.ProgramMismatch.selector, keccak256(abi.encode(h)), keccak256(abi.encode(header()))));
        vm.prank(challenger);
        game.open(jobId, INIT, h, initProof(r));

        DisputeGameTypes.StepProof memory p = initProof(r);
        p.recordBefore.lossBits = 0;
        bytes32 have = keccak256(abi.encodePacked(pair(recordHash(r.s0, 0), r.records[1]), uint256(2)));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.RecordMismatch.selector, 0, have, r.transcript));
        vm.prank(challenger);
        game.open(jobId, INIT, header(), p);

        p = stepProof(r);
        p.slotsRoot = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.SlotsMismatch.selector, keccak256(abi.encodePacked(p.slotsRoot, uint256(0))), r.s0));
        vm.prank(challenger);
        game.open(jobId, 0, header(), p);

        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.StepOutOfRange.selector, uint32(2), uint32(1)));
        vm.prank(challenger);
        game.open(jobId, 2, header(), stepProof(r));

        p = initProof(r);
        p.beforeProof = new bytes32[](0);
        vm.expectRevert(abi.encodeWithSelector(NodeMerkle.MissingSibling.selector, 0));
        vm.prank(challenger);
        game.open(jobId, INIT, header(), p);

        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WindowClosed.selector, jobId, uint64(block.timestamp - 1)));
        vm.prank(challenger);
        game.open(jobId, INIT, header(), initProof(r));
        market.finalize(jobId);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.JobNotSubmitted.selector, jobId, TrainingMarketTypes.Status.Finalized));
        vm.prank(challenger);
        game.open(jobId, INIT, header(), initProof(r));
    }

    /// A program whose step is shorter than the 3P ops that must end it cannot be disputed.
    function test_openRefusesMalformedHeaders() public {
        Run memory r = honest();
        DisputeGameTypes.Header memory h = header();
        h.stepOps = 2;
        uint256 jobId = submittedWith(h, r.transcript);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InvalidHeader.selector, uint32(2), uint32(1)));
        vm.prank(challenger);
        game.open(jobId, INIT, h, initProof(r));
        h = header();
        h.paramSlots = 0;
        jobId = submittedWith(h, r.transcript);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InvalidHeader.selector, uint32(4), uint32(0)));
        vm.prank(challenger);
        game.open(jobId, INIT, h, initProof(r));
        h = header();
        h.lossOp = 4; // past the step program
        jobId = submittedWith(h, r.transcript);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InvalidHeader.selector, uint32(4), uint32(1)));
        vm.prank(challenger);
        game.open(jobId, INIT, h, initProof(r));
    }

    function test_moveRefusals() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openInit(jobId, r);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.UnknownDispute.selector, id + 1));
        game.getDispute(id + 1);

        // wrong phase, wrong mover
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.WrongPhase.selector, id, DisputeGameTypes.Phase.AwaitTrace, DisputeGameTypes.Phase.AwaitPinpoint));
        vm.prank(challenger);
        game.pinpoint(id, initPinpoint(r, 0, 0));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.NotYourMove.selector, id, challenger, trainer));
        vm.prank(challenger);
        game.postOpTrace(id, r.slots);

        // a trace that does not rebuild S_0, or of the wrong length
        bytes32[] memory bad = list(r.slots[0], r.slots[1], r.slots[0]);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.StateMismatch.selector, keccak256(abi.encodePacked(nodeRoot(bad), uint256(0))), r.s0));
        vm.prank(trainer);
        game.postOpTrace(id, bad);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.TraceLength.selector, 4, 3));
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);

        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.NotYourMove.selector, id, trainer, challenger));
        vm.prank(trainer);
        game.pinpoint(id, initPinpoint(r, 0, 0));

        // an op that is not the program's, an output that is not the trace's, an element past the end
        DisputeGameTypes.Pinpoint memory p = initPinpoint(r, 0, 0);
        p.op = fillOp(TWO);
        bytes32[] memory forged = opLeaves(true);
        forged[0] = keccak256(abi.encode(p.op));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.OpMismatch.selector, 0, nodeRoot(forged), nodeRoot(opLeaves(true))));
        vm.prank(challenger);
        game.pinpoint(id, p);
        p = initPinpoint(r, 0, 0);
        p.outputRoot = r.slots[1];
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.OutputMismatch.selector, 0, nodeRoot(list(r.slots[1], r.slots[1], r.slots[2])), nodeRoot(r.slots)));
        vm.prank(challenger);
        game.pinpoint(id, p);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.ElementOutOfRange.selector, 2, 2));
        vm.prank(challenger);
        game.pinpoint(id, initPinpoint(r, 0, 2));
        p = initPinpoint(r, 0, 0);
        p.inputRoots = new DisputeGameTypes.InputRoot[](1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InputCount.selector, 1, 0));
        vm.prank(challenger);
        game.pinpoint(id, p);

        vm.prank(challenger);
        game.pinpoint(id, initPinpoint(r, 0, 1));

        // openings that are not of the committed output, or do not cover the element
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.NotYourMove.selector, id, challenger, trainer));
        vm.prank(challenger);
        game.reveal(id, opening(r.p0));
        StepOps.Opening memory o = opening(vec(ONE, TWO));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.OpeningMismatch.selector, tensorRoot(vec(ONE, TWO)), r.slots[0]));
        vm.prank(trainer);
        game.reveal(id, o);
        o = opening(r.p0);
        o.dtype = 1;
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.OpeningShape.selector, 2, 1, 2, 0));
        vm.prank(trainer);
        game.reveal(id, o);
        o = opening(r.p0);
        o.length = 3;
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.OpeningShape.selector, 3, 0, 2, 0));
        vm.prank(trainer);
        game.reveal(id, o);

        vm.prank(trainer);
        game.reveal(id, opening(r.p0));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.WrongPhase.selector, id, DisputeGameTypes.Phase.Resolved, DisputeGameTypes.Phase.AwaitReveal));
        vm.prank(trainer);
        game.reveal(id, opening(r.p0));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.AlreadyResolved.selector, id));
        game.timeout(id);
    }

    /// An OP input must be an earlier op, and proven against the trace.
    function test_opInputsAreBoundToTheTrace() public {
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        DisputeGameTypes.Pinpoint memory p = stepPinpoint(r, 0);
        p.inputRoots[0].proof = nodeProof(r.trace, 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InputMismatch.selector, 0, pair(pair(r.trace[0], r.trace[0]), pair(r.trace[2], r.trace[3])), nodeRoot(r.trace)));
        vm.prank(challenger);
        game.pinpoint(id, p);
    }

    /// An init op may not read a slot: there is no state before S_0.
    function test_initOpsCannotReadSlots() public {
        Run memory r = honest();
        DisputeGameTypes.Header memory h = header();
        bytes32[] memory leaves = opLeaves(true);
        StepOps.Op memory op = copyOp(StepOps.SLOT, 0);
        leaves[0] = keccak256(abi.encode(op));
        h.initOpsRoot = nodeRoot(leaves);
        uint256 jobId = submittedWith(h, r.transcript);
        vm.prank(challenger);
        uint256 id = game.open(jobId, INIT, h, initProof(r));
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        DisputeGameTypes.Pinpoint memory p = initPinpoint(r, 0, 0);
        p.op = op;
        p.opProof = nodeProof(leaves, 0);
        p.inputRoots = new DisputeGameTypes.InputRoot[](1);
        p.inputRoots[0] = DisputeGameTypes.InputRoot(r.slots[0], nodeProof(r.slots, 0));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InputKind.selector, 0, StepOps.SLOT));
        vm.prank(challenger);
        game.pinpoint(id, p);
    }

    /// An OP input must name an earlier op (here a program whose op 3 reads itself).
    function test_opInputsMustBeEarlierOps() public {
        Run memory r = honest();
        DisputeGameTypes.Header memory h = header();
        bytes32[] memory leaves = opLeaves(false);
        StepOps.Op memory op = copyOp(StepOps.OP, 3);
        leaves[3] = keccak256(abi.encode(op));
        h.stepOpsRoot = nodeRoot(leaves);
        uint256 jobId = submittedWith(h, r.transcript);
        vm.prank(challenger);
        uint256 id = game.open(jobId, 0, h, stepProof(r));
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        DisputeGameTypes.Pinpoint memory p = stepPinpoint(r, 0);
        p.op = op;
        p.opProof = nodeProof(leaves, 3);
        p.inputRoots[0] = DisputeGameTypes.InputRoot(r.trace[3], nodeProof(r.trace, 3));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.ForwardInput.selector, 0, 3, 3));
        vm.prank(challenger);
        game.pinpoint(id, p);
    }

    /// A reveal must open the leaf that holds the element (a 10-element output: 2 leaves).
    function test_revealMustCoverTheElement() public {
        uint32[] memory p10 = new uint32[](10);
        for (uint256 i = 0; i < 10; i++) p10[i] = ONE;
        Run memory r = run(p10, p10);
        DisputeGameTypes.Header memory h = header();
        StepOps.Op memory op = fillOp(ONE);
        op.dims[0] = 10;
        bytes32[] memory leaves = opLeaves(true);
        leaves[0] = keccak256(abi.encode(op));
        h.initOpsRoot = nodeRoot(leaves);
        uint256 jobId = submittedWith(h, r.transcript);
        vm.prank(challenger);
        uint256 id = game.open(jobId, INIT, h, initProof(r));
        vm.prank(trainer);
        game.postOpTrace(id, r.slots);
        DisputeGameTypes.Pinpoint memory p = initPinpoint(r, 0, 9);
        p.op = op;
        p.opProof = nodeProof(leaves, 0);
        vm.prank(challenger);
        game.pinpoint(id, p);
        assertEq(game.getDispute(id).outputLength, 10, "output length");
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.ElementNotOpened.selector, 9, 0, 8));
        vm.prank(trainer);
        game.reveal(id, leafOpening(p10, 0));
        vm.prank(trainer);
        game.reveal(id, leafOpening(p10, 1));
        assertTrue(game.getDispute(id).reason == DisputeGameTypes.Reason.Match, "match");
    }

    function test_parametersOnlyByOwner() public {
        vm.expectRevert();
        vm.prank(challenger);
        game.setParameters(1, 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.InvalidMoveTime.selector, 0));
        vm.prank(governance);
        game.setParameters(1, 0);
        vm.prank(governance);
        game.setParameters(7 ether, 2 hours);
        assertEq(game.bond(), 7 ether, "bond");
        assertEq(game.moveTime(), 2 hours, "move time");
        Run memory r = honest();
        uint256 jobId = submitted(r);
        uint256 id = openInit(jobId, r);
        assertEq(game.getDispute(id).bond, 7 ether, "bond of the dispute");
        assertEq(game.getDispute(id).deadline, block.timestamp + 2 hours, "deadline");
    }

    // ---------------------------------------------------------------- gas

    /// Gas of each move of a full step dispute (printed with -vv).
    function test_gasPerMove() public {
        Run memory r = run(vec(ONE, ONE), vec(TWO, ONE));
        uint256 jobId = submitted(r);
        DisputeGameTypes.StepProof memory sp = stepProof(r);
        DisputeGameTypes.Header memory h = header();
        vm.prank(challenger);
        uint256 g = gasleft();
        uint256 id = game.open(jobId, 0, h, sp);
        emit log_named_uint("open (step)", g - gasleft());
        vm.prank(trainer);
        g = gasleft();
        game.postOpTrace(id, r.trace);
        emit log_named_uint("postOpTrace (4 roots)", g - gasleft());
        DisputeGameTypes.Pinpoint memory p = stepPinpoint(r, 0);
        vm.prank(challenger);
        g = gasleft();
        game.pinpoint(id, p);
        emit log_named_uint("pinpoint (COPY, 1 OP input)", g - gasleft());
        StepOps.Opening memory o = opening(r.pOut);
        vm.prank(trainer);
        g = gasleft();
        game.reveal(id, o);
        emit log_named_uint("reveal (+ slash)", g - gasleft());
    }

    // ---------------------------------------------------------------- NodeMerkle

    function test_nodeMerkleMatchesTheEngine() public {
        NodeMerkleHarness h = new NodeMerkleHarness();
        assertEq(uint256(NodeMerkle.EMPTY_LEAF), uint256(keccak256(abi.encodePacked(uint8(2)))), "EMPTY[0]");
        assertEq(uint256(h.root(new bytes32[](0))), uint256(NodeMerkle.EMPTY_LEAF), "no nodes");
        // nodeRoot of commit.ts over keccak256(uint256(i)), i < n
        uint256[3] memory ns = [uint256(5), 7, 13];
        bytes32[3] memory want = [
            bytes32(0x8bb4288c7939ea16b0328d259336e5f119c0f0424ff49c0aab446fcc50aae614),
            0xe0e35bdcde325df8c0675c33f43ca4a0038f52302a3a021a86e6c8a5012064e9,
            0x750fa8b123339fb74c7345ca9aacb7a22f9837994400e6bd5005c8f3c30d208f
        ];
        for (uint256 k = 0; k < 3; k++) {
            bytes32[] memory leaves = new bytes32[](ns[k]);
            for (uint256 i = 0; i < ns[k]; i++) leaves[i] = keccak256(abi.encode(i));
            assertEq(uint256(h.root(leaves)), uint256(want[k]), "engine vector");
        }
    }

    function testFuzz_nodeMerkleAgainstReference(uint256 seed, uint256 count, uint256 index) public {
        NodeMerkleHarness h = new NodeMerkleHarness();
        count = bound(count, 1, 40);
        index = bound(index, 0, count - 1);
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; i++) leaves[i] = keccak256(abi.encode(seed, i));
        bytes32 want = nodeRoot(leaves);
        assertEq(uint256(h.root(leaves)), uint256(want), "root");
        assertEq(uint256(leaves[index]), uint256(keccak256(abi.encode(seed, index))), "root leaves its input alone");
        bytes32[] memory proof = nodeProof(leaves, index);
        assertEq(uint256(h.rootFromLeaf(leaves[index], index, count, proof)), uint256(want), "rootFromLeaf");

        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; i++) longer[i] = proof[i];
        vm.expectRevert(abi.encodeWithSelector(NodeMerkle.ExtraSiblings.selector, proof.length, proof.length + 1));
        h.rootFromLeaf(leaves[index], index, count, longer);
        if (proof.length > 0) {
            bytes32[] memory shorter = new bytes32[](proof.length - 1);
            for (uint256 i = 0; i < shorter.length; i++) shorter[i] = proof[i];
            vm.expectRevert(abi.encodeWithSelector(NodeMerkle.MissingSibling.selector, shorter.length));
            h.rootFromLeaf(leaves[index], index, count, shorter);
        }
        vm.expectRevert(abi.encodeWithSelector(NodeMerkle.IndexOutOfRange.selector, count, count));
        h.rootFromLeaf(leaves[index], count, count, proof);
    }
}
