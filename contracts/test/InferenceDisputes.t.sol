// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceFixture} from "./InferenceFixture.sol";
import {TensorTrees} from "./TensorTrees.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {NodeMerkle} from "../src/dispute/NodeMerkle.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";
import {ServiceRegistry} from "../src/inference/ServiceRegistry.sol";
import {InferenceDisputes} from "../src/inference/InferenceDisputes.sol";
import {InferenceDisputeTypes} from "../src/inference/InferenceDisputeTypes.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";

/// @notice The generated-token dispute on a bigram model whose forward program is two
///         ops: GATHER the window's rows of the table (slot 0), ARGMAX the last row. The
///         table's row t peaks at (3t + 1) mod 8, so the greedy answer to [1, 2] is
///         7, 6, 3, 2, ... An honest provider wins every dispute; a provider who claims
///         another token, serves a corrupted weight, or misses a move is slashed.
contract InferenceDisputesTest is InferenceFixture {
    InferenceDisputes internal game;
    uint256 internal constant PROVIDER_KEY = 0x9A0;
    address internal liar;
    address internal treasuryAddr = address(0x7EA5);
    uint256 internal serviceId;
    uint32 internal constant V = 8;
    uint32 internal constant CONTEXT = 4;
    uint32[] internal table; // [V, V]
    uint32[] internal zeros; // m and v of the checkpoint
    bytes32 internal modelRoot;

    uint8 internal constant I32 = 1;

    function setUp() public {
        deployInference();
        liar = vm.addr(PROVIDER_KEY);
        StepVerifier verifier =
            new StepVerifier(new ElementwiseProver(), new ReduceProver(), new IndexProver(), new OptimProver());
        game = new InferenceDisputes(token, services, verifier, channels, governance, treasuryAddr);
        vm.prank(governance);
        services.setSlasher(address(game), true);
        token.transfer(liar, FUNDS);
        vm.prank(liar);
        token.approve(address(registry), type(uint256).max);
        stakeAs(liar, 100 ether, 0);
        vm.prank(client);
        token.approve(address(game), type(uint256).max);

        table = new uint32[](V * V);
        for (uint32 t = 0; t < V; t++) {
            for (uint32 j = 0; j < V; j++) {
                table[t * V + j] = 0x3f800000 + j; // 1 + j ulps: a distinct value per column
            }
            table[t * V + (3 * t + 1) % V] = 0x40000000; // 2.0, the row's peak
        }
        zeros = new uint32[](V * V);
        modelRoot = keccak256(abi.encodePacked(NodeMerkle.root(_slotRoots(table)), uint256(150)));
        vm.startPrank(liar);
        serviceId = services.register(modelRoot, hex"0155", 1 ether, "peer", 40 ether);
        game.setPrograms(serviceId, _programsRoot(), CONTEXT);
        vm.stopPrank();
    }

    // ---- the honest provider ----------------------------------------------------------

    function test_honestProvider_winsTheBond() public {
        uint32[] memory output = _answer(table, 3);
        uint256 id = _open(output, 2, PROVIDER_KEY);
        uint32[] memory gathered = _gather(table, _window(output, 2));
        _postTrace(id, gathered, output[2]);
        // The challenger has nothing to find: any element it names is the provider's.
        _pinpoint(id, 1, 0, _window(output, 2), gathered, output[2]);
        uint256 before = token.balanceOf(liar);
        _reveal(id, 1, 0, gathered, output[2]);
        assertEq(uint8(game.getDispute(id).reason), uint8(DisputeGameTypes.Reason.Match), "match");
        assertEq(token.balanceOf(liar), before + game.bond(), "bond to the provider");
        assertEq(services.service(serviceId).stake, 40 ether, "stake intact");
    }

    /// @notice A sampled answer opens with the sampled program of its window, whose tokens
    ///         input carries the receipt's words and whose context is its seed and the index;
    ///         the greedy program of that length is refused for it.
    function test_sampledAnswer_opensWithTheSampledProgram() public {
        uint32[] memory output = _answer(table, 3);
        InferenceDisputeTypes.Claim memory c = _claim(output, 1, PROVIDER_KEY);
        c.receipt.seeded = true;
        c.receipt.seed = 77;
        c.receipt.temperatureBits = 0x3f4ccccd; // 0.8
        c.receipt.topK = 5;
        c.signature = sign(PROVIDER_KEY, game.receiptDigest(c.receipt));
        c.programProof = _nodeProof(_programHashes(), CONTEXT + 2); // the greedy header at the sampled leaf
        bytes32 have = NodeMerkle.root(_replace(_programHashes(), CONTEXT + 2, keccak256(abi.encode(c.header))));
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.HeaderMismatch.selector, have, _programsRoot()));
        vm.prank(client);
        game.open(c);

        c.header = _sampledHeader(3);
        c.programProof = _nodeProof(_programHashes(), CONTEXT + 2);
        vm.prank(client);
        uint256 id = game.open(c);
        InferenceDisputeTypes.GenDispute memory d = game.getDispute(id);
        assertEq(d.seed, 77, "the receipt's seed is the context");
        assertEq(d.index, 1, "and the token's index");
        assertTrue(d.opsRoot == c.header.opsRoot, "the sampled program");
        uint32[] memory words = new uint32[](6);
        uint32[] memory window = _window(output, 1);
        words[0] = window[0];
        words[1] = window[1];
        words[2] = window[2];
        words[3] = 0x3f4ccccd;
        words[4] = 5;
        words[5] = 0;
        assertTrue(d.windowRoot == TensorTrees.root(words, I32), "the window, then temperature, top-k, top-p");
    }

    // ---- attacks by the provider --------------------------------------------------------

    /// @notice It answers another token than the pick and posts a trace whose pick is its answer.
    function test_attack_claimingAnotherIndex_isSlashed() public {
        uint32[] memory output = _answer(table, 3);
        output[1] = (output[1] + 1) % V; // the lie (the rest is what it would say after it)
        uint256 id = _open(output, 1, PROVIDER_KEY);
        uint32[] memory gathered = _gather(table, _window(output, 1));
        _postTrace(id, gathered, output[1]);
        _pinpoint(id, 1, 0, _window(output, 1), gathered, output[1]);
        uint256 before = token.balanceOf(client);
        _reveal(id, 1, 0, gathered, output[1]);
        _assertSlashed(id, DisputeGameTypes.Reason.Mismatch, before);
    }

    /// @notice Its honest trace picks another token than the one it answered: it loses at once.
    function test_attack_traceThatIsNotTheAnswer_losesAtOnce() public {
        uint32[] memory output = _answer(table, 2);
        output[0] = (output[0] + 3) % V;
        uint256 id = _open(output, 0, PROVIDER_KEY);
        uint256 before = token.balanceOf(client);
        _postTrace(id, _gather(table, _window(output, 0)), _pick(table, _window(output, 0)));
        _assertSlashed(id, DisputeGameTypes.Reason.Mismatch, before);
    }

    /// @notice It serves a table with one weight changed (so it answers another token), and
    ///         posts the registered slot roots with its own GATHER output: that op departs.
    function test_attack_corruptedWeight_isCaughtAtTheGather() public {
        uint32[] memory bad = _copy(table);
        bad[2 * V + 5] = 0x40400000; // row 2 now peaks at 5, not 7: the answer to [1, 2] changes
        uint32[] memory output = _answer(bad, 2);
        assertTrue(output[0] != _answer(table, 1)[0], "the corruption changes the answer");
        uint256 id = _open(output, 0, PROVIDER_KEY);
        uint32[] memory window = _window(output, 0);
        _postTrace(id, _gather(bad, window), output[0]);
        uint256 element = (window.length - 1) * V + 5;
        _pinpoint(id, 0, element, window, _gather(bad, window), output[0]);
        uint256 before = token.balanceOf(client);
        _reveal(id, 0, element, _gather(bad, window), output[0]);
        _assertSlashed(id, DisputeGameTypes.Reason.Mismatch, before);
    }

    /// @notice Slot roots of another model cannot be posted; silence then loses by timeout.
    function test_attack_otherModel_cannotPostThenTimesOut() public {
        uint32[] memory bad = _copy(table);
        bad[0] = 0x40400000;
        uint32[] memory output = _answer(bad, 2);
        uint256 id = _open(output, 0, PROVIDER_KEY);
        bytes32[] memory slots = _slotRoots(bad);
        bytes32 state = keccak256(abi.encodePacked(NodeMerkle.root(slots), uint256(150)));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.StateMismatch.selector, state, modelRoot));
        vm.prank(liar);
        game.postTrace(id, slots, 150, _traceRoots(_gather(bad, _window(output, 0)), output[0]));
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = token.balanceOf(client);
        game.timeout(id);
        _assertSlashed(id, DisputeGameTypes.Reason.TraceTimeout, before);
    }

    // ---- attacks by the challenger ------------------------------------------------------

    function test_attack_forgedOrAlteredReceipts_cannotOpen() public {
        uint32[] memory output = _answer(table, 2);
        InferenceDisputeTypes.Claim memory c = _claim(output, 1, PROVIDER_KEY);
        c.signature = sign(OTHER_KEY, game.receiptDigest(c.receipt));
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.ReceiptSigner.selector, vm.addr(OTHER_KEY), liar));
        vm.prank(client);
        game.open(c);

        c = _claim(output, 1, PROVIDER_KEY);
        c.output[0] = (c.output[0] + 1) % V; // not what the provider signed
        vm.expectRevert(
            abi.encodeWithSelector(InferenceDisputeTypes.TokensMismatch.selector, _hash(c.output), c.receipt.outputHash)
        );
        vm.prank(client);
        game.open(c);

        c = _claim(output, 1, PROVIDER_KEY);
        c.header = _header(2); // the program of another window length
        c.programProof = _nodeProof(_programHashes(), 1);
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.WindowLength.selector, uint256(3), uint32(2)));
        vm.prank(client);
        game.open(c);

        c = _claim(output, 1, PROVIDER_KEY);
        c.header.ops = 3; // a program the service did not bind
        bytes32 have = NodeMerkle.root(_replace(_programHashes(), 2, keccak256(abi.encode(c.header))));
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.HeaderMismatch.selector, have, _programsRoot()));
        vm.prank(client);
        game.open(c);

        c = _claim(output, 1, PROVIDER_KEY);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.SelfChallenge.selector, serviceId, liar));
        vm.prank(liar); // a provider disputing itself to earn the share of its own slash
        game.open(c);

        c = _claim(output, 2, PROVIDER_KEY);
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.IndexPastOutput.selector, uint32(2), uint256(2)));
        vm.prank(client);
        game.open(c);
    }

    function test_challengerSilence_losesTheBond() public {
        uint32[] memory output = _answer(table, 2);
        uint256 id = _open(output, 1, PROVIDER_KEY);
        _postTrace(id, _gather(table, _window(output, 1)), output[1]);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = token.balanceOf(liar);
        game.timeout(id);
        assertEq(token.balanceOf(liar), before + game.bond(), "bond to the provider");
        assertEq(services.service(serviceId).stake, 40 ether, "stake intact");
    }

    function test_secondDisputeAfterASlash_stillEnds() public {
        uint32[] memory output = _answer(table, 2);
        output[0] = (output[0] + 1) % V;
        uint256 a = _open(output, 0, PROVIDER_KEY);
        uint256 b = _open(output, 0, PROVIDER_KEY);
        vm.warp(block.timestamp + 1 hours + 1);
        game.timeout(a);
        uint256 before = token.balanceOf(client);
        game.timeout(b);
        assertEq(token.balanceOf(client), before + game.bond(), "bond back, nothing left to slash");
    }

    // ---- the model and its program ------------------------------------------------------

    /// @dev Greedy continuation of [1, 2] by `t`: n tokens, each window the last CONTEXT.
    function _answer(uint32[] memory t, uint256 n) internal pure returns (uint32[] memory out) {
        out = new uint32[](n);
        uint32 last = 2;
        for (uint256 i = 0; i < n; i++) {
            last = _rowPick(t, last);
            out[i] = last;
        }
    }

    function _rowPick(uint32[] memory t, uint32 row) internal pure returns (uint32 best) {
        for (uint32 j = 1; j < V; j++) {
            if (t[row * V + j] > t[row * V + best]) best = j; // positive floats order as integers
        }
    }

    function _pick(uint32[] memory t, uint32[] memory window) internal pure returns (uint32) {
        return _rowPick(t, window[window.length - 1]);
    }

    function _prompt() internal pure returns (uint32[] memory p) {
        p = new uint32[](2);
        p[0] = 1;
        p[1] = 2;
    }

    /// @dev The last CONTEXT tokens of prompt ‖ output[0..index).
    function _window(uint32[] memory output, uint256 index) internal pure returns (uint32[] memory w) {
        uint256 total = 2 + index;
        uint256 length = total < CONTEXT ? total : CONTEXT;
        w = new uint32[](length);
        for (uint256 i = 0; i < length; i++) {
            uint256 k = total - length + i;
            w[i] = k < 2 ? _prompt()[k] : output[k - 2];
        }
    }

    function _gather(uint32[] memory t, uint32[] memory window) internal pure returns (uint32[] memory g) {
        g = new uint32[](window.length * V);
        for (uint256 i = 0; i < g.length; i++) {
            g[i] = t[window[i / V] * V + i % V];
        }
    }

    function _ops(uint32 length) internal pure returns (StepOps.Op[2] memory ops) {
        StepOps.OpInput[] memory gin = new StepOps.OpInput[](2);
        gin[0] = StepOps.OpInput(StepOps.SLOT, 0, bytes32(0));
        gin[1] = StepOps.OpInput(StepOps.TOKENS, 0, bytes32(0));
        ops[0] = StepOps.Op(StepOps.GATHER, 0, _u2(length, V), gin, _u2(V, V));
        StepOps.OpInput[] memory ain = new StepOps.OpInput[](1);
        ain[0] = StepOps.OpInput(StepOps.OP, 0, bytes32(0));
        uint32[] memory dims = new uint32[](1);
        dims[0] = 1;
        ops[1] = StepOps.Op(StepOps.ARGMAX, I32, dims, ain, _u2(V, length - 1));
    }

    function _opLeaves(uint32 length) internal pure returns (bytes32[] memory leaves) {
        StepOps.Op[2] memory ops = _ops(length);
        leaves = new bytes32[](2);
        leaves[0] = keccak256(abi.encode(ops[0]));
        leaves[1] = keccak256(abi.encode(ops[1]));
    }

    function _header(uint32 length) internal pure returns (InferenceDisputeTypes.ForwardHeader memory) {
        return InferenceDisputeTypes.ForwardHeader(NodeMerkle.root(_opLeaves(length)), 2, 1, length);
    }

    /// @dev A sampled program's header: the greedy ops, then the sampling ops (their
    ///      contents do not matter to open).
    function _sampledHeader(uint32 length) internal pure returns (InferenceDisputeTypes.ForwardHeader memory) {
        return InferenceDisputeTypes.ForwardHeader(keccak256(abi.encode("sampled", length)), 10, 1, length);
    }

    /// @dev The greedy programs of lengths 1..CONTEXT, then the sampled ones.
    function _programHashes() internal pure returns (bytes32[] memory h) {
        h = new bytes32[](2 * CONTEXT);
        for (uint32 t = 1; t <= CONTEXT; t++) {
            h[t - 1] = keccak256(abi.encode(_header(t)));
            h[CONTEXT + t - 1] = keccak256(abi.encode(_sampledHeader(t)));
        }
    }

    function _programsRoot() internal pure returns (bytes32) {
        return NodeMerkle.root(_programHashes());
    }

    function _slotRoots(uint32[] memory t) internal view returns (bytes32[] memory r) {
        r = new bytes32[](3);
        r[0] = TensorTrees.root(t, 0);
        r[1] = TensorTrees.root(zeros, 0);
        r[2] = r[1];
    }

    function _traceRoots(uint32[] memory gathered, uint32 token_) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](2);
        r[0] = TensorTrees.root(gathered, 0);
        r[1] = TensorTrees.root(_one(token_), I32);
    }

    // ---- moves --------------------------------------------------------------------------

    function _claim(uint32[] memory output, uint32 index, uint256 key)
        internal
        view
        returns (InferenceDisputeTypes.Claim memory c)
    {
        c.service = serviceId;
        c.receipt = InferenceDisputeTypes.Receipt({
            provider: vm.addr(key),
            service: serviceId,
            issuedAt: uint64(block.timestamp),
            modelRoot: modelRoot,
            promptHash: _hash(_prompt()),
            tokens: uint32(output.length),
            seeded: false,
            seed: 0,
            temperatureBits: 0x3f800000,
            topK: 0,
            topPBits: 0,
            outputHash: _hash(output),
            pricePer1k: 1 ether,
            cost: 0.005 ether,
            channel: bytes32(uint256(7)),
            cumulative: 0.005 ether,
            spent: 0.005 ether
        });
        c.signature = sign(key, game.receiptDigest(c.receipt));
        c.prompt = _prompt();
        c.output = _copy(output);
        c.index = index;
        uint32 length = uint32(_window(output, index).length);
        c.header = _header(length);
        c.programProof = _nodeProof(_programHashes(), length - 1);
    }

    function _open(uint32[] memory output, uint32 index, uint256 key) internal returns (uint256 id) {
        InferenceDisputeTypes.Claim memory c = _claim(output, index, key);
        vm.prank(client);
        id = game.open(c);
    }

    function _postTrace(uint256 id, uint32[] memory gathered, uint32 pick) internal {
        vm.prank(liar);
        game.postTrace(id, _slotRoots(table), 150, _traceRoots(gathered, pick));
    }

    /// @dev Names `element` of op `opIndex` of the posted trace (`gathered`, `pick`): op 0
    ///      (GATHER) reads the registered table (slot 0) and the window, op 1 (ARGMAX) op 0's
    ///      last row.
    function _pinpoint(
        uint256 id,
        uint256 opIndex,
        uint256 element,
        uint32[] memory window,
        uint32[] memory gathered,
        uint32 pick
    ) internal {
        uint32 length = uint32(window.length);
        bytes32[] memory trace = _traceRoots(gathered, pick);
        DisputeGameTypes.Pinpoint memory p;
        p.opIndex = opIndex;
        p.op = _ops(length)[opIndex];
        p.opProof = _nodeProof(_opLeaves(length), opIndex);
        p.element = element;
        p.outputRoot = trace[opIndex];
        p.outputProof = _nodeProof(trace, opIndex);
        if (opIndex == 0) {
            p.inputRoots = new DisputeGameTypes.InputRoot[](2);
            p.inputRoots[0] = DisputeGameTypes.InputRoot(TensorTrees.root(table, 0), _nodeProof(_slotRoots(table), 0));
            p.inputRoots[1] = DisputeGameTypes.InputRoot(bytes32(0), new bytes32[](0));
            p.openings = new StepOps.Opening[](2);
            p.openings[0] = TensorTrees.open(table, 0, 0, V * V / 8);
            p.openings[1] = TensorTrees.open(window, I32, 0, 1);
        } else {
            p.inputRoots = new DisputeGameTypes.InputRoot[](1);
            p.inputRoots[0] = DisputeGameTypes.InputRoot(trace[0], _nodeProof(trace, 0));
            p.openings = new StepOps.Opening[](1);
            p.openings[0] = TensorTrees.open(gathered, 0, 0, (gathered.length + 7) / 8);
        }
        vm.prank(client);
        game.pinpoint(id, p);
    }

    function _reveal(uint256 id, uint256 opIndex, uint256 element, uint32[] memory gathered, uint32 pick) internal {
        vm.prank(liar);
        if (opIndex == 1) game.reveal(id, TensorTrees.open(_one(pick), I32, 0, 1));
        else game.reveal(id, TensorTrees.open(gathered, 0, element / 8, 1));
    }

    function _assertSlashed(uint256 id, DisputeGameTypes.Reason reason, uint256 clientBefore) internal view {
        InferenceDisputeTypes.GenDispute memory d = game.getDispute(id);
        assertEq(uint8(d.reason), uint8(reason), "reason");
        assertEq(services.service(serviceId).stake, 0, "the service's stake is slashed");
        assertEq(token.balanceOf(client), clientBefore + game.bond() + 20 ether, "bond back and half the stake");
        assertEq(token.balanceOf(treasuryAddr), 20 ether, "the rest to the treasury");
    }

    // ---- small helpers ------------------------------------------------------------------

    function _hash(uint32[] memory tokens) internal pure returns (bytes32) {
        bytes memory packed;
        for (uint256 i = 0; i < tokens.length; i++) {
            packed = abi.encodePacked(packed, tokens[i]);
        }
        return keccak256(packed);
    }

    function _one(uint32 x) internal pure returns (uint32[] memory v) {
        v = new uint32[](1);
        v[0] = x;
    }

    function _u2(uint32 a, uint32 b) internal pure returns (uint32[] memory v) {
        v = new uint32[](2);
        v[0] = a;
        v[1] = b;
    }

    function _copy(uint32[] memory a) internal pure returns (uint32[] memory b) {
        b = new uint32[](a.length);
        for (uint256 i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
    }

    function _replace(bytes32[] memory a, uint256 i, bytes32 x) internal pure returns (bytes32[] memory) {
        a[i] = x;
        return a;
    }

    /// @dev NodeMerkle siblings of node `index`, bottom up (an odd last node takes none).
    function _nodeProof(bytes32[] memory nodes, uint256 index) internal pure returns (bytes32[] memory proof) {
        proof = new bytes32[](64);
        uint256 used = 0;
        bytes32 empty = NodeMerkle.EMPTY_LEAF;
        bytes32[] memory level = nodes;
        while (level.length > 1) {
            if (index & 1 == 1) proof[used++] = level[index - 1];
            else if (index + 1 < level.length) proof[used++] = level[index + 1];
            bytes32[] memory up = new bytes32[]((level.length + 1) / 2);
            for (uint256 i = 0; i < up.length; i++) {
                up[i] = NodeMerkle.hashPair(level[2 * i], 2 * i + 1 < level.length ? level[2 * i + 1] : empty);
            }
            level = up;
            index >>= 1;
            empty = NodeMerkle.hashPair(empty, empty);
        }
        assembly {
            mstore(proof, used)
        }
    }
}
