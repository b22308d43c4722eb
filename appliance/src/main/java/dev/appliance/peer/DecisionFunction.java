package dev.appliance.peer;

/** The shape of the decision engine: a pure function from what a node knows to what it should do. */
@FunctionalInterface
public interface DecisionFunction {
    Decision decide(EngineInput input);
}
