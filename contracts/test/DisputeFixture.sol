// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";
import {DisputeGame} from "../src/dispute/DisputeGame.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";
import {NodeMerkle} from "../src/dispute/NodeMerkle.sol";
import {StepOps, IOpProver} from "../src/dispute/StepOps.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {Openings} from "../src/dispute/Openings.sol";

/// @notice The cheatcodes to read logs, beside the ones Vm.sol declares.
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// @notice NodeMerkle with its proofs in calldata, as the game receives them.
contract NodeMerkleHarness {
    function rootFromLeaf(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata siblings) external pure returns (bytes32) {
        return NodeMerkle.rootFromLeaf(leaf, index, count, siblings);
    }

    function root(bytes32[] memory nodes) external pure returns (bytes32) {
        return NodeMerkle.root(nodes);
    }
}

/// @notice Reference commitments (packages/protocol/src/commit.ts) written plainly, and
///         the tiny programs of these tests.
abstract contract Commitments {
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TWO = 0x40000000;
    /// @dev v is filled with 0.001, not 0 like m, so a trace that swaps m and v is caught.
    uint32 internal constant V0 = 0x3a83126f;

    function pair(bytes32 l, bytes32 r) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), l, r));
    }

    function empty(uint256 height) internal pure returns (bytes32 e) {
        e = keccak256(abi.encodePacked(uint8(2)));
        for (uint256 h = 0; h < height; h++) e = pair(e, e);
    }

    function nodeRoot(bytes32[] memory nodes) internal pure returns (bytes32) {
        if (nodes.length == 0) return empty(0);
        bytes32[] memory level = nodes;
        uint256 height = 0;
        while (level.length > 1) {
            bytes32[] memory next = new bytes32[]((level.length + 1) / 2);
            for (uint256 i = 0; i < level.length; i += 2) {
                next[i / 2] = pair(level[i], i + 1 < level.length ? level[i + 1] : empty(height));
            }
            level = next;
            height++;
        }
        return level[0];
    }

    /// @dev The real siblings of node `index`, bottom-up.
    function nodeProof(bytes32[] memory nodes, uint256 index) internal pure returns (bytes32[] memory proof) {
        bytes32[] memory buf = new bytes32[](64);
        uint256 used = 0;
        bytes32[] memory level = nodes;
        uint256 height = 0;
        while (level.length > 1) {
            if (index % 2 == 1) buf[used++] = level[index - 1];
            else if (index + 1 < level.length) buf[used++] = level[index + 1];
            bytes32[] memory next = new bytes32[]((level.length + 1) / 2);
            for (uint256 i = 0; i < level.length; i += 2) {
                next[i / 2] = pair(level[i], i + 1 < level.length ? level[i + 1] : empty(height));
            }
            level = next;
            index /= 2;
            height++;
        }
        proof = new bytes32[](used);
        for (uint256 i = 0; i < used; i++) proof[i] = buf[i];
    }

    function list(bytes32 a, bytes32 b, bytes32 c) internal pure returns (bytes32[] memory l) {
        l = new bytes32[](3);
        (l[0], l[1], l[2]) = (a, b, c);
    }

    function vec(uint32 a, uint32 b) internal pure returns (uint32[] memory v) {
        v = new uint32[](2);
        (v[0], v[1]) = (a, b);
    }

    /// @dev Whole leaves of big-endian words, the last zero-padded.
    function words(uint32[] memory v) internal pure returns (bytes memory out) {
        out = new bytes((v.length + 7) / 8 * 32);
        for (uint256 i = 0; i < v.length; i++) {
            for (uint256 b = 0; b < 4; b++) out[i * 4 + b] = bytes1(uint8(v[i] >> (24 - 8 * b)));
        }
    }

    function leafHashes(uint32[] memory v) internal pure returns (bytes32[] memory leaves) {
        bytes memory w = words(v);
        leaves = new bytes32[](w.length / 32);
        for (uint256 l = 0; l < leaves.length; l++) {
            bytes memory leaf = new bytes(32);
            for (uint256 b = 0; b < 32; b++) leaf[b] = w[l * 32 + b];
            leaves[l] = keccak256(bytes.concat(bytes1(0), leaf));
        }
    }

    /// @dev An f32 tensor's root.
    function tensorRoot(uint32[] memory v) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(nodeRoot(leafHashes(v)), uint256(v.length), uint8(0)));
    }

    /// @dev A whole-tensor opening of a one-leaf f32 tensor.
    function opening(uint32[] memory v) internal pure returns (StepOps.Opening memory) {
        return StepOps.Opening({length: v.length, dtype: 0, firstLeaf: 0, words: words(v), siblings: new bytes32[](0)});
    }

    /// @dev An opening of leaf `leaf` of an f32 tensor (one leaf's siblings are the node siblings).
    function leafOpening(uint32[] memory v, uint256 leaf) internal pure returns (StepOps.Opening memory o) {
        bytes memory w = words(v);
        bytes memory part = new bytes(32);
        for (uint256 b = 0; b < 32; b++) part[b] = w[leaf * 32 + b];
        o = StepOps.Opening({length: v.length, dtype: 0, firstLeaf: leaf, words: part, siblings: nodeProof(leafHashes(v), leaf)});
    }

    function fillOp(uint32 value) internal pure returns (StepOps.Op memory op) {
        op.code = StepOps.FILL;
        op.dims = new uint32[](1);
        op.dims[0] = 2;
        op.inputs = new StepOps.OpInput[](0);
        op.attrs = new uint32[](1);
        op.attrs[0] = value;
    }

    function copyOp(uint8 kind, uint32 index) internal pure returns (StepOps.Op memory op) {
        op.code = StepOps.COPY;
        op.dims = new uint32[](1);
        op.dims[0] = 2;
        op.inputs = new StepOps.OpInput[](1);
        op.inputs[0] = StepOps.OpInput({kind: kind, index: index, root: bytes32(0)});
        op.attrs = new uint32[](1);
        op.attrs[0] = 1;
    }

    /// @dev Init program, P = 1: p = FILL 1.0, m = FILL 0, v = FILL 0.001 (dims [2]).
    function initOp(uint256 i) internal pure returns (StepOps.Op memory) {
        return fillOp(i == 0 ? ONE : i == 1 ? 0 : V0);
    }

    /// @dev Step program, P = 1, an identity step: x = COPY p, m' = COPY m, v' = COPY v,
    ///      p' = COPY x. It ends with m', v', p' as the step program must.
    function stepOp(uint256 i) internal pure returns (StepOps.Op memory) {
        if (i == 3) return copyOp(StepOps.OP, 0);
        return copyOp(StepOps.SLOT, uint32(i));
    }

    function opLeaves(bool init) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](init ? 3 : 4);
        for (uint256 i = 0; i < leaves.length; i++) leaves[i] = keccak256(abi.encode(init ? initOp(i) : stepOp(i)));
    }

    function header() internal pure returns (DisputeGameTypes.Header memory) {
        return DisputeGameTypes.Header({stepOpsRoot: nodeRoot(opLeaves(false)), stepOps: 4, paramSlots: 1, initOpsRoot: nodeRoot(opLeaves(true)), lossOp: 0});
    }

    function recordHash(bytes32 state, uint32 lossBits) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(3), state, lossBits));
    }
}

/// @notice The fixtures of whole disputes on the real contracts: token, registry, market, the StepVerifier
///         with its provers, and the game authorised by the market. Jobs of one step run
///         the tiny programs above (P = 1), so every root is computed here by hand.
abstract contract DisputeFixture is Fixture, Commitments {
    uint256 internal constant REWARD = 1_000 ether;
    uint256 internal constant JOB_STAKE = 500 ether;
    uint32 internal constant LOSS0 = 0x40490fdb;
    uint32 internal constant LOSS1 = 0x40400000;

    DisputeGame internal game;
    IOpProver internal verifier;
    uint32 internal INIT;
    address internal challenger2 = address(0x1006);

    event log_named_uint(string key, uint256 val);

    /// @dev What a trainer committed to for a job of one step: the slots of S_0, the op
    ///      trace of step 0, S_1 and the transcript.
    struct Run {
        uint32[] p0; // parameters of S_0
        uint32[] pOut; // p' of step 0 as the trainer computed it
        bytes32[] slots; // tensor roots of S_0: p, m, v
        bytes32 slotsRoot;
        bytes32 s0;
        bytes32[] trace; // x, m', v', p'
        bytes32 s1;
        bytes32[] records;
        bytes32 transcript;
    }

    function setUp() public {
        deployAll();
        verifier = new StepVerifier(new ElementwiseProver(), new ReduceProver(), new IndexProver(), new OptimProver());
        game = new DisputeGame(token, market, verifier, governance);
        INIT = game.INIT();
        vm.prank(governance);
        market.setDisputeGame(address(game), true);
        stakeAs(trainer, 2_000 ether, registry.ROLE_TRAINER());
        token.transfer(challenger2, FUNDS);
        vm.prank(challenger);
        token.approve(address(game), type(uint256).max);
        vm.prank(challenger2);
        token.approve(address(game), type(uint256).max);
    }

    // ---------------------------------------------------------------- fixtures

    function run(uint32[] memory p0, uint32[] memory pOut) internal pure returns (Run memory r) {
        r.p0 = p0;
        r.pOut = pOut;
        bytes32 m = tensorRoot(vec(0, 0));
        bytes32 v = tensorRoot(vec(V0, V0));
        r.slots = list(tensorRoot(p0), m, v);
        r.slotsRoot = nodeRoot(r.slots);
        r.s0 = keccak256(abi.encodePacked(r.slotsRoot, uint256(0)));
        r.trace = new bytes32[](4);
        (r.trace[0], r.trace[1], r.trace[2], r.trace[3]) = (tensorRoot(p0), m, v, tensorRoot(pOut));
        r.s1 = keccak256(abi.encodePacked(nodeRoot(list(r.trace[3], r.trace[1], r.trace[2])), uint256(1)));
        r.records = new bytes32[](2);
        (r.records[0], r.records[1]) = (recordHash(r.s0, LOSS0), recordHash(r.s1, LOSS1));
        r.transcript = keccak256(abi.encodePacked(nodeRoot(r.records), uint256(2)));
    }

    function honest() internal pure returns (Run memory) {
        return run(vec(ONE, ONE), vec(ONE, ONE));
    }

    /// @dev Posts, claims and submits a one-step job of the test program.
    function submitted(Run memory r) internal returns (uint256 jobId) {
        return submittedWith(header(), r.transcript);
    }

    function submittedWith(DisputeGameTypes.Header memory h, bytes32 transcript) internal returns (uint256 jobId) {
        TrainingMarketTypes.JobSpec memory s = spec(REWARD, JOB_STAKE);
        s.programHash = keccak256(abi.encode(h));
        s.steps = 1;
        vm.prank(requester);
        jobId = market.postJob(s, address(0));
        vm.prank(trainer);
        market.claim(jobId);
        vm.prank(trainer);
        market.submitResult(jobId, hex"0155aa", transcript, 1);
    }

    function initProof(Run memory r) internal pure returns (DisputeGameTypes.StepProof memory p) {
        p.recordBefore = DisputeGameTypes.Record(r.s0, LOSS0);
        p.beforeProof = nodeProof(r.records, 0);
        p.afterProof = new bytes32[](0);
    }

    function stepProof(Run memory r) internal pure returns (DisputeGameTypes.StepProof memory p) {
        p.recordBefore = DisputeGameTypes.Record(r.s0, LOSS0);
        p.beforeProof = nodeProof(r.records, 0);
        p.recordAfter = DisputeGameTypes.Record(r.s1, LOSS1);
        p.afterProof = nodeProof(r.records, 1);
        p.slotsRoot = r.slotsRoot;
    }

    function openInit(uint256 jobId, Run memory r) internal returns (uint256 id) {
        vm.prank(challenger);
        id = game.open(jobId, INIT, header(), initProof(r));
    }

    function openStep(uint256 jobId, Run memory r) internal returns (uint256 id) {
        vm.prank(challenger);
        id = game.open(jobId, 0, header(), stepProof(r));
    }

    /// @dev Plays step dispute `id` of run `r` to the end: the trainer posts its trace, the
    ///      challenger pinpoints element 0 of the step's output, the trainer reveals it.
    function playStep(uint256 id, Run memory r) internal {
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.prank(challenger);
        game.pinpoint(id, stepPinpoint(r, 0));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));
    }

    /// @dev Element `element` of init op `slot` (the slot's root in the trace).
    function initPinpoint(Run memory r, uint256 slot, uint256 element) internal pure returns (DisputeGameTypes.Pinpoint memory p) {
        p.opIndex = slot;
        p.op = initOp(slot);
        p.opProof = nodeProof(opLeaves(true), slot);
        p.element = element;
        p.outputRoot = r.slots[slot];
        p.outputProof = nodeProof(r.slots, slot);
        p.inputRoots = new DisputeGameTypes.InputRoot[](0);
        p.openings = new StepOps.Opening[](0);
    }

    /// @dev Element `element` of step op 3 (p' = COPY x), x proven against the trace.
    function stepPinpoint(Run memory r, uint256 element) internal pure returns (DisputeGameTypes.Pinpoint memory p) {
        p.opIndex = 3;
        p.op = stepOp(3);
        p.opProof = nodeProof(opLeaves(false), 3);
        p.element = element;
        p.outputRoot = r.trace[3];
        p.outputProof = nodeProof(r.trace, 3);
        p.inputRoots = new DisputeGameTypes.InputRoot[](1);
        p.inputRoots[0] = DisputeGameTypes.InputRoot(r.trace[0], nodeProof(r.trace, 0));
        p.openings = new StepOps.Opening[](1);
        p.openings[0] = opening(r.p0);
    }

    /// @dev Element `element` of step op 0 (x = COPY p), p proven against the slots of S_0.
    function slotPinpoint(Run memory r, uint256 element) internal pure returns (DisputeGameTypes.Pinpoint memory p) {
        p.opIndex = 0;
        p.op = stepOp(0);
        p.opProof = nodeProof(opLeaves(false), 0);
        p.element = element;
        p.outputRoot = r.trace[0];
        p.outputProof = nodeProof(r.trace, 0);
        p.inputRoots = new DisputeGameTypes.InputRoot[](1);
        p.inputRoots[0] = DisputeGameTypes.InputRoot(r.slots[0], nodeProof(r.slots, 0));
        p.openings = new StepOps.Opening[](1);
        p.openings[0] = opening(r.p0);
    }

    function phaseOf(uint256 id) internal view returns (DisputeGameTypes.Phase) {
        return game.getDispute(id).phase;
    }

}
