// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceDisputesTest} from "./InferenceDisputes.t.sol";
import {TensorTrees} from "./TensorTrees.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";
import {InferenceDisputeTypes} from "../src/inference/InferenceDisputeTypes.sol";

/// @notice Data availability in the generated-token dispute: a provider that posts a trace
///         but keeps the values of its ops to itself is made to reveal them on-chain
///         ({requestValues} / {provideValues}); silence then loses, and the values it
///         reveals lead the challenger to the element it pinpoints. (The bigram model and
///         the moves are InferenceDisputesTest's; its tests run here too.)
contract InferenceDisputesValuesTest is InferenceDisputesTest {
    /// @notice A provider serving a corrupted weight withholds its GATHER output: the
    ///         challenger asks for it on-chain, the provider does not answer, and is slashed.
    function test_attack_withholdingValues_losesByTimeout() public {
        (uint256 id, uint32[] memory window, uint32[] memory bad) = _corruptedDispute();
        _request(id, window, _gather(bad, window), 0, 512);
        assertEq(uint8(game.getDispute(id).phase), uint8(DisputeGameTypes.Phase.AwaitValues), "the provider must answer");
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.DeadlineNotPassed.selector, id, block.timestamp + 1 hours));
        game.timeout(id);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = token.balanceOf(client);
        game.timeout(id);
        _assertSlashed(id, DisputeGameTypes.Reason.ValuesTimeout, before);
    }

    /// @notice The provider answers the request (its values prove to its posted root); the
    ///         challenger finds the differing element in them and the game ends as usual.
    ///         Each move stays under 5M gas.
    function test_valuesRound_leadsToThePinpoint() public {
        (uint256 id, uint32[] memory window, uint32[] memory bad) = _corruptedDispute();
        uint32[] memory gathered = _gather(bad, window);
        uint256 g = gasleft();
        _request(id, window, gathered, 0, 512);
        assertTrue(g - gasleft() < 5_000_000, "requestValues gas");
        _refusesOtherValues(id, window, gathered);
        g = gasleft();
        vm.prank(liar);
        game.provideValues(id, TensorTrees.open(gathered, 0, 0, (gathered.length + 7) / 8));
        assertTrue(g - gasleft() < 5_000_000, "provideValues gas");
        assertEq(uint8(game.getDispute(id).phase), uint8(DisputeGameTypes.Phase.AwaitPinpoint), "the challenger moves");
        uint256 element = _firstDifference(gathered, _gather(table, window));
        assertEq(element, (window.length - 1) * V + 5, "the corrupted weight's element");
        _pinpoint(id, 0, element, window, gathered, _pick(bad, window));
        uint256 before = token.balanceOf(client);
        _reveal(id, 0, element, gathered, _pick(bad, window));
        _assertSlashed(id, DisputeGameTypes.Reason.Mismatch, before);
    }

    /// @dev A provider cannot answer with values that are not its trace's, nor another range.
    function _refusesOtherValues(uint256 id, uint32[] memory window, uint32[] memory gathered) internal {
        uint256 leaves = (gathered.length + 7) / 8;
        uint32[] memory forged = _gather(table, window);
        StepOps.Opening memory wrong = TensorTrees.open(forged, 0, 0, leaves);
        vm.expectRevert(
            abi.encodeWithSelector(
                DisputeGameTypes.OpeningMismatch.selector, TensorTrees.root(forged, 0), TensorTrees.root(gathered, 0)
            )
        );
        vm.prank(liar);
        game.provideValues(id, wrong);
        StepOps.Opening memory other = TensorTrees.open(gathered, 0, 1, leaves - 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.NotRequested.selector, 1, leaves - 1, 0, leaves));
        vm.prank(liar);
        game.provideValues(id, other);
    }

    /// @notice Requests are bounded: no empty range, none past the output, at most MAX_REQUESTS.
    function test_requests_areBounded() public {
        (uint256 id, uint32[] memory window, uint32[] memory bad) = _corruptedDispute();
        uint32[] memory gathered = _gather(bad, window);
        uint256 leaves = (gathered.length + 7) / 8;
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.BadRequest.selector, leaves, 1, leaves));
        _request(id, window, gathered, leaves, 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.BadRequest.selector, 0, 0, leaves));
        _request(id, window, gathered, 0, 0);
        for (uint256 i = 0; i < game.MAX_REQUESTS(); i++) {
            _request(id, window, gathered, 0, 1);
            vm.prank(liar);
            game.provideValues(id, TensorTrees.open(gathered, 0, 0, 1));
        }
        vm.expectRevert(abi.encodeWithSelector(DisputeGameTypes.TooManyRequests.selector, id));
        _request(id, window, gathered, 0, 1);
    }

    /// @notice A receipt names its service and when it was issued: it cannot be carried to
    ///         another service of the same provider and model, nor disputed after the
    ///         unbonding delay (when a retired service's stake may be gone).
    function test_receipt_namesItsServiceAndExpires() public {
        uint32[] memory output = _answer(table, 2);
        vm.prank(liar);
        uint256 other = services.register(modelRoot, hex"0155", 1 ether, "peer", 40 ether);
        InferenceDisputeTypes.Claim memory c = _claim(output, 0, PROVIDER_KEY);
        c.service = other;
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.ReceiptService.selector, serviceId, other));
        vm.prank(client);
        game.open(c);

        c = _claim(output, 0, PROVIDER_KEY);
        uint256 until = uint256(c.receipt.issuedAt) + SERVICE_DELAY;
        vm.warp(until + 1);
        vm.expectRevert(abi.encodeWithSelector(InferenceDisputeTypes.ReceiptExpired.selector, c.receipt.issuedAt, until));
        vm.prank(client);
        game.open(c);
        vm.warp(until);
        vm.prank(client);
        game.open(c); // the last second still opens
    }

    /// @notice A trace whose pick is not the answer ends the game and counts as a move.
    function test_traceThatEndsTheGame_countsAsAMove() public {
        uint32[] memory output = _answer(table, 2);
        output[0] = (output[0] + 3) % V;
        uint256 id = _open(output, 0, PROVIDER_KEY);
        _postTrace(id, _gather(table, _window(output, 0)), _pick(table, _window(output, 0)));
        assertEq(game.getDispute(id).moves, 1, "postTrace");
    }

    /// @dev A dispute over a provider serving row 2 peaking at 5, with its trace posted.
    function _corruptedDispute() internal returns (uint256 id, uint32[] memory window, uint32[] memory bad) {
        bad = _copy(table);
        bad[2 * V + 5] = 0x40400000;
        uint32[] memory output = _answer(bad, 2);
        id = _open(output, 0, PROVIDER_KEY);
        window = _window(output, 0);
        _postTrace(id, _gather(bad, window), output[0]);
    }

    function _request(uint256 id, uint32[] memory window, uint32[] memory gathered, uint256 firstLeaf, uint256 leaves)
        internal
    {
        uint32 length = uint32(window.length);
        // The posted trace: the GATHER and the pick of its last row (the token answered).
        uint32 pick = 0;
        uint256 row = gathered.length - V;
        for (uint32 j = 1; j < V; j++) {
            if (gathered[row + j] > gathered[row + pick]) pick = j;
        }
        bytes32[] memory trace = _traceRoots(gathered, pick);
        DisputeGameTypes.ValuesRequest memory r;
        r.opIndex = 0;
        r.op = _ops(length)[0];
        r.opProof = _nodeProof(_opLeaves(length), 0);
        r.outputRoot = trace[0];
        r.outputProof = _nodeProof(trace, 0);
        r.firstLeaf = firstLeaf;
        r.leaves = leaves;
        vm.prank(client);
        game.requestValues(id, r);
    }

    function _firstDifference(uint32[] memory a, uint32[] memory b) internal pure returns (uint256) {
        for (uint256 i = 0; i < a.length; i++) {
            if (a[i] != b[i]) return i;
        }
        return type(uint256).max;
    }
}
